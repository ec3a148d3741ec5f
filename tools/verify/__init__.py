"""`migagent verify`: prove an Alembic revision on a throwaway copy of the schema."""
