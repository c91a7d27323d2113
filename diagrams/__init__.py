"""Diagrams and plots for causal specs and stock-and-flow models."""
