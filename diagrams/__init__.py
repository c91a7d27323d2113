"""Diagrams and plots for causal specs and stock-and-flow models.

Drawing functions return a :class:`~diagrams.scene.Diagram`; :func:`diagrams.render.render`
turns it into SVG, PNG, PDF, DOT or Mermaid, and :func:`write_diagram` writes
it atomically. Plots return matplotlib figures; :func:`save_figure` writes
them. See ``docs/diagrams.md``.
"""

from diagrams.cld import draw_cld
from diagrams.dag import dag_svg, draw_dag
from diagrams.plots import (
    plot_channels,
    plot_loop_dominance,
    plot_phase,
    plot_scenarios,
    plot_sweep_heatmap,
    save_figure,
)
from diagrams.render import repr_svg, write_diagram
from diagrams.scene import Diagram, generate_dot, generate_mermaid
from diagrams.stockflow import draw_stockflow
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

__all__ = [
    "Auxiliary",
    "CausalLoopStructure",
    "Diagram",
    "Flow",
    "InformationLink",
    "Link",
    "Loop",
    "Stock",
    "StockFlowStructure",
    "Variable",
    "dag_svg",
    "draw_cld",
    "draw_dag",
    "draw_stockflow",
    "generate_dot",
    "generate_mermaid",
    "plot_channels",
    "plot_loop_dominance",
    "plot_phase",
    "plot_scenarios",
    "plot_sweep_heatmap",
    "repr_svg",
    "save_figure",
    "write_diagram",
]
