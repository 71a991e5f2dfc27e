-- Primary key, unique, check and foreign-key constraints of every table in the configured
-- schemas ($1). Column lists keep the constraint's own order (conkey / confkey).
-- Check expressions are deparsed in pretty mode (fewest parentheses), like index keys.
-- Constraints cloned onto partitions (conparentid <> 0) are left out.
-- pg_index.indnullsnotdistinct exists from PostgreSQL 15; older servers read `false` instead.
SELECT
    c.conrelid AS table_oid,
    c.conname::text AS name,
    c.contype::text AS kind,
    ARRAY(
        SELECT a.attname::text
        FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS columns,
    pg_get_expr(c.conbin, c.conrelid, true) AS check_expr,
    rn.nspname::text AS ref_schema,
    rc.relname::text AS ref_table,
    ARRAY(
        SELECT a.attname::text
        FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
        ORDER BY k.ord
    ) AS ref_columns,
    c.confdeltype::text AS on_delete,
    c.confupdtype::text AS on_update,
    c.condeferrable AS deferrable,
    coalesce(ix.indnullsnotdistinct, false) AS nulls_not_distinct
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rc ON rc.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_index ix ON ix.indexrelid = c.conindid AND c.contype = 'u'
WHERE n.nspname = ANY($1::text[])
  AND t.relkind IN ('r', 'p')
  AND c.contype IN ('p', 'u', 'c', 'f')
  AND c.conparentid = 0
ORDER BY c.conrelid, c.conname
