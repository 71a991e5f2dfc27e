-- Ordinary and partitioned tables of the configured schemas ($1), with their comments.
-- Partitions and tables that belong to an extension are left out.
-- Comments come from a join with pg_description (obj_description() runs a query per row);
-- extension membership is one index scan of pg_depend by the extension side.
SELECT
    c.oid AS table_oid,
    n.nspname::text AS schema,
    c.relname::text AS name,
    d.description AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d
  ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
  AND c.oid NOT IN (
      SELECT dep.objid FROM pg_depend dep
      WHERE dep.refclassid = 'pg_extension'::regclass
        AND dep.classid = 'pg_class'::regclass
        AND dep.deptype = 'e'
  )
ORDER BY 2, 3
