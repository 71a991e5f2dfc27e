-- Ordinary and partitioned tables of the configured schemas ($1), with their comments.
-- Partitions and tables that belong to an extension are left out.
SELECT
    c.oid AS table_oid,
    n.nspname::text AS schema,
    c.relname::text AS name,
    obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY 2, 3
