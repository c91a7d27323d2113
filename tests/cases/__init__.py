"""Answer keys: published graphs with their published (or derived and cited) answers."""
