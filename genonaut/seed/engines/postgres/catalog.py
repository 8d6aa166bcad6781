"""Reading a PostgreSQL database's catalogs into `Schema` records: tables, columns, keys,
foreign keys, partitions, sequences."""

from __future__ import annotations

from collections.abc import Sequence

from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, Table, TableName
from genonaut.seed.core.schema_graph import Sequence as SequenceRecord

from .connection import Session

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


# One round trip for the whole schema: the catalogs answer in milliseconds where reflecting
# table by table costs a query each. Without %(schemas)s (NULL), every user schema is read,
# and named under 'schemas'.
_CATALOG_QUERY = """
WITH schemas AS (
    SELECT nspname FROM pg_namespace
    WHERE CASE WHEN %(schemas)s::text[] IS NULL
               THEN nspname <> ALL(%(system)s::text[]) AND nspname NOT LIKE 'pg\\_temp\\_%%'
                    AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
               ELSE nspname = ANY(%(schemas)s::text[]) END
), btree AS (
    -- The types with a default b-tree operator class, read once rather than per column.
    SELECT array_agg(oc.opcintype) AS types
    FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
    WHERE am.amname = 'btree' AND oc.opcdefault
), rels AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, c.reltuples, c.relhasrules
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname IN (SELECT nspname FROM schemas)
)
SELECT json_build_object(
  'schemas', (SELECT coalesce(json_agg(nspname ORDER BY nspname), '[]'::json) FROM schemas),
  'tables', (SELECT coalesce(json_agg(json_build_object(
      'schema', r.nspname, 'name', r.relname, 'partitioned', r.relkind = 'p',
      'estimate', greatest(r.reltuples, 0)::bigint,
      'parent', (SELECT json_build_array(pn.nspname, pc.relname)
                 FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                 JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                 WHERE i.inhrelid = r.oid AND r.relispartition),
      'columns', (SELECT json_agg(json_build_array(
                      a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                      a.attgenerated <> '', a.attidentity, a.attcollation <> 0, a.atthasdef,
                      -- Sortable as it is: json, xml, point and arrays are sorted as text.
                      ty.typcategory <> 'A' AND ARRAY[ty.oid, ty.typbasetype,
                          CASE ty.typtype WHEN 'e' THEN 'anyenum'::regtype::oid
                                          WHEN 'r' THEN 'anyrange'::regtype::oid END]
                        && (SELECT types FROM btree))
                    ORDER BY a.attnum)
                  FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                  WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
      'primary_key', (SELECT json_agg(a.attname ORDER BY k.ord)
                      FROM pg_constraint con,
                           unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord),
                           pg_attribute a
                      WHERE con.conrelid = r.oid AND con.contype = 'p'
                        AND a.attrelid = r.oid AND a.attnum = k.attnum),
      'has_rules', r.relhasrules,
      'key_deferrable', EXISTS (SELECT 1 FROM pg_constraint con
                                WHERE con.conrelid = r.oid AND con.contype = 'p'
                                  AND con.condeferrable),
      'unique_keys', (SELECT json_agg(cols ORDER BY cols::text) FROM (
                        SELECT (SELECT json_agg(a.attname ORDER BY k.ord)
                                FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                                JOIN pg_attribute a
                                  ON a.attrelid = r.oid AND a.attnum = k.attnum) AS cols
                        FROM pg_index ix
                        WHERE ix.indrelid = r.oid AND ix.indisunique AND ix.indpred IS NULL
                          AND NOT (0 = ANY(ix.indkey::int2[]))) u),
      -- Plain b-tree indexes on columns, by name: an order the planner can walk.
      'indexes', (SELECT json_agg(cols ORDER BY name) FROM (
                    SELECT ic.relname AS name,
                           (SELECT json_agg(a.attname ORDER BY k.ord)
                            FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                            JOIN pg_attribute a
                              ON a.attrelid = r.oid AND a.attnum = k.attnum) AS cols
                    FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid
                    JOIN pg_am am ON am.oid = ic.relam
                    WHERE ix.indrelid = r.oid AND am.amname = 'btree' AND ix.indpred IS NULL
                      AND NOT (0 = ANY(ix.indkey::int2[]))) i)
    ) ORDER BY r.nspname, r.relname), '[]'::json) FROM rels r),
  'foreign_keys', (SELECT coalesce(json_agg(json_build_object(
      'name', con.conname, 'schema', r.nspname, 'table', r.relname,
      'ref_schema', fn.nspname, 'ref_table', fc.relname,
      'deferrable', con.condeferrable,
      'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                  FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
      'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                      FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
    ) ORDER BY r.nspname, r.relname, con.conname), '[]'::json)
    FROM pg_constraint con
    JOIN rels r ON r.oid = con.conrelid
    JOIN pg_class fc ON fc.oid = con.confrelid
    JOIN pg_namespace fn ON fn.oid = fc.relnamespace
    -- Partitions carry clones of their parent's constraints (conparentid <> 0): count each once.
    WHERE con.contype = 'f' AND con.conparentid = 0),
  'sequences', (SELECT coalesce(json_agg(json_build_object(
      'schema', s.seq_schema, 'name', s.seq_name, 'feeds', s.feeds)
      ORDER BY s.seq_schema, s.seq_name), '[]'::json)
    FROM (SELECT sn.nspname AS seq_schema, sc.relname AS seq_name,
                 json_agg(DISTINCT jsonb_build_array(r.nspname, r.relname, a.attname)) AS feeds
          FROM (
            -- A column default nextval('seq'): the default depends on the sequence, whether
            -- or not the sequence is OWNED BY the column.
            SELECT ad.adrelid AS relid, ad.adnum AS attnum, d.refobjid AS seqid
            FROM pg_attrdef ad
            JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                            AND d.refclassid = 'pg_class'::regclass
            UNION
            -- Identity columns own their sequence.
            SELECT d.refobjid, d.refobjsubid, d.objid
            FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.deptype = 'i' AND d.refobjsubid > 0
          ) uses
          JOIN pg_class sc ON sc.oid = uses.seqid AND sc.relkind = 'S'
          JOIN pg_namespace sn ON sn.oid = sc.relnamespace
          JOIN rels r ON r.oid = uses.relid
          JOIN pg_attribute a ON a.attrelid = uses.relid AND a.attnum = uses.attnum
          GROUP BY sn.nspname, sc.relname) s)
)
"""


def read_schema(db: Session, schemas: Sequence[str] | None = None) -> Schema:
    """The tables, keys, foreign keys and sequences of `schemas` (default: all user schemas)."""
    # format_type() leaves out the schemas on the search_path: with only pg_catalog there,
    # type names are qualified the same way for every client. One statement reads the setting
    # (the materialized CTE, first) and changes it.
    saved, _ = db.fetch(
        "WITH saved AS MATERIALIZED (SELECT current_setting('search_path') AS path) "
        "SELECT path, set_config('search_path', 'pg_catalog', true) FROM saved"
    )[0]
    wanted = list(schemas) if schemas else None
    (raw,) = db.fetch(_CATALOG_QUERY, {"schemas": wanted, "system": list(_SYSTEM_SCHEMAS)})[0]
    db.fetch("SELECT set_config('search_path', %s, true)", (saved,))
    names = wanted if wanted is not None else list(raw["schemas"])
    tables = tuple(
        Table(
            name=TableName(t["schema"], t["name"]),
            columns=tuple(
                Column(
                    name=c[0],
                    type=c[1],
                    is_nullable=c[2],
                    is_generated=c[3],
                    identity=c[4],
                    is_collatable=c[5],
                    is_sortable=c[7],
                    has_default=c[6],
                )
                for c in t["columns"] or ()
            ),
            primary_key=tuple(t["primary_key"] or ()),
            unique_keys=tuple(tuple(k) for k in t["unique_keys"] or ()),
            indexes=tuple(tuple(k) for k in t["indexes"] or ()),
            is_key_deferrable=t["key_deferrable"],
            has_rules=t["has_rules"],
            is_partitioned=t["partitioned"],
            partition_of=TableName(*t["parent"]) if t["parent"] else None,
            estimated_rows=int(t["estimate"]),
        )
        for t in raw["tables"]
    )
    known = {t.name for t in tables}
    foreign_keys = tuple(
        ForeignKey(
            name=f["name"],
            table=TableName(f["schema"], f["table"]),
            columns=tuple(f["columns"]),
            referred_table=TableName(f["ref_schema"], f["ref_table"]),
            referred_columns=tuple(f["ref_columns"]),
            is_deferrable=f["deferrable"],
        )
        for f in raw["foreign_keys"]
    )
    outside = sorted({fk.referred_table for fk in foreign_keys} - known)
    if outside:
        # Tables in other schemas that ours reference: read them too, so nothing dangles.
        extra = read_schema(db, sorted(set(names) | {t.schema for t in outside}))
        return extra
    sequences = tuple(
        SequenceRecord(
            name=TableName(s["schema"], s["name"]),
            feeds=tuple(sorted((TableName(f[0], f[1]), f[2]) for f in s["feeds"])),
        )
        for s in raw["sequences"]
    )
    return Schema(tables, foreign_keys, sequences)
