"""Schema introspection."""
