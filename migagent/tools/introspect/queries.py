"""The catalog queries behind a snapshot: one per kind of object, never one per table.

Every query is restricted to the user schemas found first (`%(nsp)s`, an oid
array) and skips objects that belong to an extension (pg_depend deptype 'e').
They run with `search_path = pg_catalog`, so PostgreSQL's deparsers qualify
every user object and the text is the same whatever the caller's search_path.
"""

from __future__ import annotations

from typing import LiteralString


def _not_extension_member(catalog: LiteralString, oid: LiteralString) -> LiteralString:
    return (
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
        f"'{catalog}'::regclass AND e.objid = {oid} AND e.deptype = 'e')"
    )


SERVER: LiteralString = """
SELECT current_setting('server_version_num')::int, current_setting('server_version'),
       current_database(), current_setting('search_path')
"""

SCHEMAS: LiteralString = f"""
SELECT n.oid, n.nspname
FROM pg_namespace n
WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
  AND {_not_extension_member("pg_namespace", "n.oid")}
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname
"""

RELATIONS: LiteralString = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence,
       c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       ARRAY(SELECT pn.nspname || '.' || p.relname
             FROM pg_inherits i
             JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace pn ON pn.oid = p.relnamespace
             WHERE i.inhrelid = c.oid ORDER BY i.inhseqno),
       coalesce(c.reloptions, '{{}}'),
       CASE WHEN c.relkind = 'p' THEN (  -- a partitioned table holds its partitions' rows
           SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0)::bigint
           FROM pg_partition_tree(c.oid) pt JOIN pg_class pc ON pc.oid = pt.relid
           WHERE pt.isleaf)
       ELSE greatest(c.reltuples, 0)::bigint END,
       CASE WHEN c.relkind IN ('r', 'm') THEN pg_table_size(c.oid) ELSE 0 END,
       CASE WHEN c.relkind IN ('r', 'm') THEN pg_relation_size(c.oid) ELSE 0 END,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = ANY(%(nsp)s::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm')
  AND {_not_extension_member("pg_class", "c.oid")}
ORDER BY n.nspname, c.relname
"""

COLUMNS: LiteralString = """
SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
       a.attidentity, a.attgenerated,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN
            CASE WHEN co.collnamespace = 'pg_catalog'::regnamespace THEN quote_ident(co.collname)
                 ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
       END,
       a.attislocal
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE c.relnamespace = ANY(%(nsp)s::oid[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'c')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS: LiteralString = """
SELECT con.conrelid, con.oid, con.conname, con.contype, pg_get_constraintdef(con.oid),
       con.conkey,
       con.convalidated, con.condeferrable, con.condeferred,
       CASE WHEN con.contype IN ('p', 'u', 'x') THEN ic.relname END,
       CASE WHEN con.contype = 'f' THEN rn.nspname || '.' || rc.relname END,
       CASE WHEN con.contype = 'f' THEN
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
                  ORDER BY k.ord) END,
       con.confupdtype, con.confdeltype,
       (NOT con.conislocal OR con.conparentid <> 0)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_class ic ON ic.oid = con.conindid
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE c.relnamespace = ANY(%(nsp)s::oid[]) AND con.contype IN ('p', 'f', 'u', 'c', 'x')
ORDER BY con.conrelid, con.conname
"""


def indexes(server_version: int) -> LiteralString:
    """Key columns come back as attnums (0 = expression, deparsed only then) and
    operator classes as oids: both are resolved in Python, not per row here."""
    nulls = "i.indnullsnotdistinct" if server_version >= 150000 else "false"
    return f"""
SELECT i.indexrelid, i.indrelid, ic.relname, am.amname, i.indisunique, i.indisprimary,
       i.indkey::int2[],
       CASE WHEN 0 = ANY(i.indkey::int2[]) THEN
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                  FROM generate_series(1, i.indnatts) k ORDER BY k) END,
       i.indnkeyatts, i.indclass::oid[],
       pg_get_expr(i.indpred, i.indrelid), {nulls}, i.indisvalid, con.conname,
       pg_get_indexdef(i.indexrelid), pg_relation_size(i.indexrelid),
       pn.nspname || '.' || p.relname
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_inherits ih ON ih.inhrelid = i.indexrelid
LEFT JOIN pg_class p ON p.oid = ih.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE c.relnamespace = ANY(%(nsp)s::oid[]) AND c.relkind IN ('r', 'p', 'm')
ORDER BY i.indrelid, ic.relname
"""


# operator classes that are not the default for their type (None for default ones)
OPCLASSES: LiteralString = """
SELECT oc.oid,
       CASE WHEN oc.opcnamespace = 'pg_catalog'::regnamespace THEN quote_ident(oc.opcname)
            ELSE quote_ident(n.nspname) || '.' || quote_ident(oc.opcname) END
FROM pg_opclass oc
JOIN pg_namespace n ON n.oid = oc.opcnamespace
WHERE NOT oc.opcdefault
"""


TRIGGERS: LiteralString = """
SELECT t.tgrelid, t.oid, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, t.tgparentid <> 0
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND c.relnamespace = ANY(%(nsp)s::oid[])
ORDER BY t.tgrelid, t.tgname
"""

POLICIES: LiteralString = """
SELECT p.polrelid, p.oid, p.polname, p.polcmd, p.polpermissive,
       CASE WHEN p.polroles = '{0}'::oid[] THEN ARRAY['public']
            ELSE ARRAY(SELECT r.rolname::text FROM pg_roles r
                       WHERE r.oid = ANY(p.polroles) ORDER BY r.rolname) END,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = ANY(%(nsp)s::oid[])
ORDER BY p.polrelid, p.polname
"""

TYPES: LiteralString = f"""
SELECT t.oid, n.nspname, t.typname, t.typtype,
       CASE WHEN t.typtype = 'e' THEN
            ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                  WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
       ARRAY(SELECT 'CONSTRAINT ' || quote_ident(dc.conname) || ' ' || pg_get_constraintdef(dc.oid)
             FROM pg_constraint dc
             WHERE dc.contypid = t.oid AND dc.contype = 'c' ORDER BY dc.conname),
       t.typrelid
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class rc ON rc.oid = t.typrelid
WHERE t.typnamespace = ANY(%(nsp)s::oid[])
  AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND rc.relkind = 'c'))
  AND {_not_extension_member("pg_type", "t.oid")}
ORDER BY n.nspname, t.typname
"""

SEQUENCES: LiteralString = f"""
SELECT c.oid, n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcycle, s.seqcache,
       owner.col, owner.deptype,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid) END
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT tn.nspname || '.' || tc.relname || '.' || a.attname AS col, d.deptype
    FROM pg_depend d
    JOIN pg_class tc ON tc.oid = d.refobjid
    JOIN pg_namespace tn ON tn.oid = tc.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LIMIT 1
) owner ON true
WHERE c.relnamespace = ANY(%(nsp)s::oid[]) AND owner.deptype IS DISTINCT FROM 'i'
  AND {_not_extension_member("pg_class", "c.oid")}
ORDER BY n.nspname, c.relname
"""


def functions(server_version: int) -> LiteralString:
    del server_version  # prosqlbody exists from PostgreSQL 14
    return f"""
SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
       CASE WHEN p.prokind <> 'p' THEN pg_get_function_result(p.oid) END, l.lanname,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END,
       p.prosqlbody IS NOT NULL,
       CASE WHEN p.prokind = 'a' THEN
            'CREATE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)
            || '(' || pg_get_function_identity_arguments(p.oid) || ') (SFUNC = '
            || ag.aggtransfn::regproc::text || ', STYPE = ' || format_type(ag.aggtranstype, NULL)
            || CASE WHEN ag.aggfinalfn <> 0 THEN ', FINALFUNC = ' || ag.aggfinalfn::regproc::text
                    ELSE '' END
            || CASE WHEN ag.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(ag.agginitval)
                    ELSE '' END
            || ')' END
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
WHERE p.pronamespace = ANY(%(nsp)s::oid[])
  AND {_not_extension_member("pg_proc", "p.oid")}
ORDER BY n.nspname, p.proname, 4
"""


EXTENSIONS: LiteralString = """
SELECT e.extname, e.extversion, n.nspname
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
ORDER BY e.extname
"""

# user objects only: oids below FirstNormalObjectId (16384) belong to the system
COMMENTS: LiteralString = """
SELECT CASE d.classoid
         WHEN 'pg_class'::regclass THEN 'class'
         WHEN 'pg_constraint'::regclass THEN 'constraint'
         WHEN 'pg_type'::regclass THEN 'type'
         WHEN 'pg_proc'::regclass THEN 'function'
         WHEN 'pg_trigger'::regclass THEN 'trigger'
         WHEN 'pg_policy'::regclass THEN 'policy'
       END,
       d.objoid, d.objsubid, d.description
FROM pg_description d
WHERE d.objoid >= 16384
  AND d.classoid IN ('pg_class'::regclass, 'pg_constraint'::regclass, 'pg_type'::regclass,
                     'pg_proc'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass)
"""

VIEW_DEPENDENCIES: LiteralString = """
SELECT DISTINCT r.ev_class, rn.nspname || '.' || rc.relname
FROM pg_rewrite r
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
JOIN pg_class rc ON rc.oid = d.refobjid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE v.relnamespace = ANY(%(nsp)s::oid[]) AND v.relkind IN ('v', 'm') AND rc.oid <> r.ev_class
ORDER BY 1, 2
"""
