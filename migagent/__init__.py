"""migagent: draft, prove and document PostgreSQL schema migrations.

Data flows one way: request -> facts (introspect) -> plan (a backend) ->
render (Alembic file) -> proof (verify, lint, estimate) -> spec.
"""

__version__ = "0.1.0"
