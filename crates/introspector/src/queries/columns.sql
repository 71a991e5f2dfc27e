-- Live columns of every table in the configured schemas ($1), in attnum order.
-- `number` is the attnum, which constraints.sql and indexes.sql use to name their columns.
-- `elem_*` describe the element type for arrays and the type itself otherwise, so that enum,
-- domain and composite columns can be named by their schema-qualified type.
-- Expressions are deparsed in pretty mode (fewest parentheses), like index keys. A plain
-- default cannot refer to a column, so it is deparsed without relation context (which would
-- open every table); a generated column's expression needs its table.
-- Comments come from a join with pg_description (col_description() runs a query per row).
-- `serial` is true for a serial column: its default is exactly `nextval` of a sequence the column
-- owns (pg_depend deptype 'a', what `serial` and `OWNED BY` record; an identity's sequence is 'i').
-- Ownership survives table renames and names that need quotes; an unowned `nextval` default is
-- a plain default. The expected text is built the way pg_get_expr prints the regclass constant.
SELECT
    a.attrelid AS table_oid,
    a.attnum AS number,
    a.attname::text AS name,
    format_type(a.atttypid, a.atttypmod) AS type_sql,
    (t.typcategory = 'A' AND t.typelem <> 0) AS is_array,
    et.typtype::text AS elem_kind,
    en.nspname::text AS elem_schema,
    et.typname::text AS elem_name,
    a.attnotnull AS not_null,
    pg_get_expr(ad.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE ad.adrelid END, true)
        AS default_expr,
    a.attidentity::text AS identity,
    CASE WHEN ad.adbin IS NULL OR a.attidentity <> '' OR a.attgenerated <> '' THEN false
    ELSE EXISTS (
        SELECT 1
        FROM pg_depend dep
        JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
        WHERE dep.classid = 'pg_class'::regclass
          AND dep.refclassid = 'pg_class'::regclass
          AND dep.refobjid = a.attrelid
          AND dep.refobjsubid = a.attnum
          AND dep.deptype = 'a'
          AND pg_get_expr(ad.adbin, 0)
              = 'nextval(''' || replace(s.oid::regclass::text, '''', '''''') || '''::regclass)'
    ) END AS serial,
    a.attgenerated::text AS generated,
    d.description AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type et
  ON et.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
JOIN pg_namespace en ON en.oid = et.typnamespace
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description d
  ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
WHERE n.nspname = ANY($1::text[])
  AND c.relkind IN ('r', 'p')
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
