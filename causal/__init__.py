"""Causal graph specs: validated, held as networkx graphs, analysed for paths,
d-separation and named channels."""
