-- Enum types of the configured schemas ($1), labels in declared order.
-- Types that belong to an extension are left out: the extension owns them.
SELECT
    n.nspname::text AS schema,
    t.typname::text AS name,
    ARRAY(
        SELECT e.enumlabel::text
        FROM pg_enum e
        WHERE e.enumtypid = t.oid
        ORDER BY e.enumsortorder
    ) AS labels
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY($1::text[])
  AND t.typtype = 'e'
  AND t.oid NOT IN (
      SELECT dep.objid FROM pg_depend dep
      WHERE dep.refclassid = 'pg_extension'::regclass
        AND dep.classid = 'pg_type'::regclass
        AND dep.deptype = 'e'
  )
ORDER BY 1, 2
