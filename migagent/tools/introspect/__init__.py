"""Schema introspection: `snapshot(conn)` reads a database's schema into a `SchemaSnapshot`.

- `snapshot(conn, schemas=None)` / `snapshot_url(url)`: the catalog, in a handful of queries.
- `ddl.render_ddl(snap, tables=None)`: readable, deterministic DDL.
- `diff.diff_snapshots(before, after, ...)`: every difference, in plain words.
"""

from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.introspect.snapshot import snapshot, snapshot_url

__all__ = ["SchemaSnapshot", "snapshot", "snapshot_url"]
