"""Causal graph formats: dagitty, DOT, Mermaid and networkx node-link JSON."""
