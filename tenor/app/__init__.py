"""The application layer: reading files of any kind and orchestrating the packages.

The packages (:mod:`causal`, :mod:`stocks_flows`, :mod:`diagrams`) work on
validated objects; this layer decides what a file is and which package reads
it (:mod:`tenor.app.kinds`), and serves the live page (:mod:`tenor.app.serve`).
The command line (:mod:`tenor.cli`) is a thin shell over it.
"""

__all__: list[str] = []
