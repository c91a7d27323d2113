"""The floor: what every part of tenor stands on, and nothing of tenor itself.

- :mod:`tenor.core.errors`: the one exception hierarchy, with located diagnostics;
- :mod:`tenor.core.specfile`: the safe, line-aware YAML reader;
- :mod:`tenor.core.output`: atomic writes;
- :mod:`tenor.core.limits`: the limits on inputs;
- :mod:`tenor.core.tables`: reading tables of numbers;
- :mod:`tenor.core.fields`: field types shared by the causal and stock-and-flow specs.

Nothing here imports :mod:`causal`, :mod:`stocks_flows`, :mod:`diagrams` or
:mod:`tenor.app`; a test over the imports keeps it so.
"""

__all__: list[str] = []
