"""The README's example spec is valid and its claims hold; its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from causal.claims import evaluate_claims
from causal.load import parse_spec

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_spec_is_valid_and_claims_hold():
    text = README.read_text()
    block = re.search(r"```yaml\n(# causal.yaml\n.*?)```", text, re.S)
    assert block is not None
    spec = parse_spec(block.group(1), file="README.md")
    results = evaluate_claims(spec)
    assert results and all(r.holds for r in results), results


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["./dev demo", "./dev test"]
    assert "./dev test" in (README.parent / ".ci" / "run").read_text()
