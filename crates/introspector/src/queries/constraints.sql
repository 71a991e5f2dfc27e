-- Primary key, unique, check and foreign-key constraints of every table in the configured
-- schemas ($1). `column_numbers` is conkey (attnums, in the constraint's own order), named
-- from the columns query's rows; referenced columns keep confkey's order and are named here.
-- Check expressions are deparsed in pretty mode (fewest parentheses), like index keys.
-- Constraints cloned onto partitions (conparentid <> 0) are left out.
-- pg_index.indnullsnotdistinct exists from PostgreSQL 15; older servers read `false` instead.
-- Per-kind lookups sit in CASE branches so that they only run for rows of that kind.
SELECT
    c.conrelid AS table_oid,
    c.conname::text AS name,
    c.contype::text AS kind,
    c.conkey::int2[] AS column_numbers,
    pg_get_expr(c.conbin, c.conrelid, true) AS check_expr,
    rn.nspname::text AS ref_schema,
    rc.relname::text AS ref_table,
    CASE WHEN c.contype = 'f' THEN ARRAY(
        SELECT (
            SELECT a.attname::text FROM pg_attribute a
            WHERE a.attrelid = c.confrelid AND a.attnum = k.attnum
        )
        FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
        ORDER BY k.ord
    ) END AS ref_columns,
    c.confdeltype::text AS on_delete,
    c.confupdtype::text AS on_update,
    c.condeferrable AS deferrable,
    c.condeferred AS deferred,
    c.confmatchtype = 'f' AS match_full,
    CASE WHEN c.contype = 'u' THEN coalesce((
        SELECT coalesce(ix.indnullsnotdistinct, false)
        FROM pg_index ix
        WHERE ix.indexrelid = c.conindid
    ), false) ELSE false END AS nulls_not_distinct
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_class rc ON rc.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname = ANY($1::text[])
  AND t.relkind IN ('r', 'p')
  AND c.contype IN ('p', 'u', 'c', 'f')
  AND c.conparentid = 0
ORDER BY c.conrelid, c.conname
