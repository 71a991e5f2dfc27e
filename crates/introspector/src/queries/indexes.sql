-- Indexes of every table in the configured schemas ($1), except those that back a primary key,
-- unique or exclusion constraint (the constraint stands for them).
-- `column_numbers` is indkey, one attnum per index column (0 for an expression), named from
-- the columns query's rows. `key_defs` has pg_get_indexdef's pretty text for each expression
-- key and NULL for each column key, and is NULL itself when no key is an expression.
-- `options` has the indoption bits per key column, `opclasses` the operator class of each key
-- when it is not the default one for the column's type (NULL otherwise). The predicate is deparsed in pretty mode too.
-- `invalid` marks an index a failed CREATE INDEX CONCURRENTLY left behind. `nulls_not_distinct`
-- (PostgreSQL 15+; `false` on older servers, see query.rs) is a unique index's NULLS NOT DISTINCT.
SELECT
    i.indrelid AS table_oid,
    ic.relname::text AS name,
    i.indisunique AS is_unique,
    am.amname::text AS method,
    i.indnkeyatts::int4 AS key_count,
    i.indkey::int2[] AS column_numbers,
    CASE WHEN 0 = ANY (i.indkey::int2[]) THEN ARRAY(
        SELECT CASE WHEN i.indkey[k.ord - 1] = 0
                    THEN pg_get_indexdef(i.indexrelid, k.ord, true) END
        FROM generate_series(1, i.indnkeyatts::int4) AS k(ord)
        ORDER BY k.ord
    ) END AS key_defs,
    i.indoption::int2[] AS options,
    ARRAY(
        SELECT CASE WHEN NOT opc.opcdefault THEN opc.opcname::text END
        FROM unnest(i.indclass::oid[]) WITH ORDINALITY AS c(oid, ord)
        JOIN pg_opclass opc ON opc.oid = c.oid
        ORDER BY c.ord
    ) AS opclasses,
    pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
    NOT i.indisvalid AS invalid,
    i.indnullsnotdistinct AS nulls_not_distinct
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = ANY($1::text[])
  AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint c
      WHERE c.conindid = i.indexrelid
        AND c.conrelid = i.indrelid
        AND c.contype IN ('p', 'u', 'x')
  )
ORDER BY i.indrelid, ic.relname
