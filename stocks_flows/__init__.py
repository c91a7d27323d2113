"""Stock-and-flow models: a declarative spec, XMILE in and out, PySD and a vectorised engine."""
