"""Migration linter."""
