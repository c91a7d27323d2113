"""The ``tenor`` command: thin over the Python API of causal, stocks_flows and diagrams."""
