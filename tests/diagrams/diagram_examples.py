"""Small structures to draw: the intervention loop of the Duration Trade, and a carry-book stock-and-flow."""

from __future__ import annotations

from diagrams.structures import (
    Auxiliary,
    CausalLoopStructure,
    Flow,
    InformationLink,
    Link,
    Loop,
    Stock,
    StockFlowStructure,
    Variable,
)


def intervention_loops() -> CausalLoopStructure:
    """Sell Treasuries -> long-end yield -> dollar -> yen weaker -> more intervention; cut at bills."""
    return CausalLoopStructure(
        title="The intervention loop",
        dimension="tenor",
        elements=("bills", "2y", "5y", "10y", "30y"),
        variables=(
            Variable("intervention", "flow", "MOF intervention"),
            Variable("treasury_sales", "flow", "Treasury sales"),
            Variable("long_end_yield", "auxiliary", "US long-end yield"),
            Variable("dollar", "auxiliary", "Dollar strength"),
            Variable("usdjpy", "auxiliary", "USDJPY"),
            Variable("firepower", "stock", "Remaining firepower"),
            Variable("carry_on_demand", "stock", "Carry on demand"),
            Variable("credibility", "stock", "Rate-path credibility"),
        ),
        links=(
            Link("intervention", "treasury_sales", "+"),
            Link("treasury_sales", "long_end_yield", "+", cut_at=("bills",)),
            Link("long_end_yield", "dollar", "+", delay=True),
            Link("dollar", "usdjpy", "+"),
            Link("usdjpy", "intervention", "+", delay=True),
            Link("intervention", "firepower", "-"),
            Link("firepower", "intervention", "+"),
            Link("firepower", "credibility", "+", delay=True),
            Link("credibility", "carry_on_demand", "-", delay=True),
            Link("carry_on_demand", "usdjpy", "-"),
        ),
        loops=(
            Loop(
                "R1",
                ("intervention", "treasury_sales", "long_end_yield", "dollar", "usdjpy"),
                "R",
                "intervention loop",
            ),
            Loop("B1", ("intervention", "firepower"), "B", "firepower"),
            Loop(
                "B2",
                ("intervention", "firepower", "credibility", "carry_on_demand", "usdjpy"),
                None,
                "credibility",
            ),
        ),
    )


def carry_stockflow() -> StockFlowStructure:
    """Carry on demand, termed out by a legible path, unwinding to a sink."""
    return StockFlowStructure(
        title="The carry book",
        stocks=(Stock("carry_on_demand", "Carry on demand"), Stock("carry_termed_out", "Carry termed out")),
        flows=(
            Flow("new_carry", None, "carry_on_demand", "new carry"),
            Flow("term_out", "carry_on_demand", "carry_termed_out", "term-out"),
            Flow("reversion", "carry_termed_out", "carry_on_demand", "reversion"),
            Flow("disorderly_unwind", "carry_on_demand", None, "disorderly unwind"),
            Flow("scheduled_unwind", "carry_termed_out", None, "scheduled unwind"),
        ),
        auxiliaries=(
            Auxiliary("credibility", "rate-path credibility"),
            Auxiliary("conviction", "conviction"),
            Auxiliary("term_out_time", "term-out time", constant=True),
        ),
        links=(
            InformationLink("credibility", "term_out", "+"),
            InformationLink("term_out_time", "term_out", "-"),
            InformationLink("credibility", "reversion", "-"),
            InformationLink("conviction", "disorderly_unwind", "-"),
            InformationLink("carry_on_demand", "disorderly_unwind", "+"),
            InformationLink("carry_termed_out", "scheduled_unwind", "+"),
        ),
    )
