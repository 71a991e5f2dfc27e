-- Views, materialized views, functions, procedures, triggers, sequences no column owns, tables'
-- row-level security and policies of the configured schemas ($1),
-- each with the statement that creates it as the server prints it, and what it uses (pg_depend:
-- relations with the column used, row types as their tables, routines outside pg_catalog). Extension members, internal
-- triggers (foreign keys) and aggregates are left out.
WITH objs AS (
    SELECT 'pg_class'::regclass AS cls, c.oid,
           CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized_view' END AS kind,
           n.nspname::text AS schema, c.relname::text AS name, NULL::text AS args,
           NULL::text AS table_schema, NULL::text AS table_name,
           'CREATE ' || CASE c.relkind WHEN 'v' THEN 'VIEW ' ELSE 'MATERIALIZED VIEW ' END
             || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
             || COALESCE(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '')
             || E' AS\n' || rtrim(pg_get_viewdef(c.oid, true), E'; \n')
             || CASE WHEN c.relkind = 'm' AND NOT c.relispopulated THEN E'\nWITH NO DATA'
                     ELSE '' END AS definition
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND n.nspname = ANY($1::text[])
    UNION ALL
    -- Sequences no column owns (serials' are 'a', identities' 'i' dependencies of the column).
    SELECT 'pg_class'::regclass, c.oid, 'sequence', n.nspname::text, c.relname::text, NULL,
           NULL, NULL,
           'CREATE SEQUENCE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
             || ' AS ' || format_type(s.seqtypid, NULL)
             || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE ' || s.seqmin
             || ' MAXVALUE ' || s.seqmax || ' START WITH ' || s.seqstart
             || ' CACHE ' || s.seqcache
             || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_sequence s ON s.seqrelid = c.oid
    WHERE c.relkind = 'S' AND n.nspname = ANY($1::text[])
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.deptype IN ('a', 'i'))
    UNION ALL
    SELECT 'pg_proc'::regclass, p.oid,
           CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
           n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid),
           NULL, NULL, rtrim(pg_get_functiondef(p.oid), E'; \n')
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p', 'w') AND n.nspname = ANY($1::text[])
    UNION ALL
    SELECT 'pg_trigger'::regclass, t.oid, 'trigger', n.nspname::text, t.tgname::text, NULL,
           n.nspname::text, c.relname::text, pg_get_triggerdef(t.oid, true)
    FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND n.nspname = ANY($1::text[])
    UNION ALL
    -- Row-level security of a table: an object named after the table, on it.
    SELECT 'pg_class'::regclass, c.oid, 'row_security', n.nspname::text, c.relname::text, NULL,
           n.nspname::text, c.relname::text,
           'ALTER TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' '
             || array_to_string(ARRAY[
                    CASE WHEN c.relrowsecurity THEN 'ENABLE ROW LEVEL SECURITY' END,
                    CASE WHEN c.relforcerowsecurity THEN 'FORCE ROW LEVEL SECURITY' END], ', ')
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
      AND n.nspname = ANY($1::text[])
    UNION ALL
    SELECT 'pg_policy'::regclass, p.oid, 'policy', n.nspname::text, p.polname::text, NULL,
           n.nspname::text, c.relname::text,
           'CREATE POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(n.nspname) || '.'
             || quote_ident(c.relname)
             || CASE WHEN p.polpermissive THEN ' AS PERMISSIVE' ELSE ' AS RESTRICTIVE' END
             || ' FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                                         WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE'
                                         ELSE 'ALL' END
             || ' TO ' || (SELECT string_agg(r.name, ', ' ORDER BY r.name)
                           FROM (SELECT CASE WHEN u = 0 THEN 'PUBLIC'
                                             ELSE quote_ident(pg_get_userbyid(u)) END AS name
                                 FROM unnest(p.polroles) AS u) r)
             || COALESCE(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
             || COALESCE(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
    FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1::text[])
),
mine AS (
    SELECT o.* FROM objs o
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = o.cls AND e.objid = o.oid AND e.deptype = 'e')
),
deps AS (
    -- A view's uses are those of its rewrite rule; a routine's and a trigger's their own
    -- normal dependencies (a trigger's table is an automatic one, and is in table_name).
    SELECT o.cls, o.oid, d.refclassid, d.refobjid, d.refobjsubid
    FROM mine o
    JOIN pg_rewrite r ON o.cls = 'pg_class'::regclass AND r.ev_class = o.oid
    JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
    WHERE d.refobjid <> o.oid
    UNION
    SELECT o.cls, o.oid, d.refclassid, d.refobjid, d.refobjsubid
    FROM mine o
    JOIN pg_depend d ON d.classid = o.cls AND d.objid = o.oid
    WHERE o.cls <> 'pg_class'::regclass AND d.deptype = 'n'
),
named AS (
    SELECT x.cls, x.oid, 'r'::text AS kind, n.nspname::text AS schema, c.relname::text AS name,
           a.attname::text AS detail
    FROM deps x
    JOIN pg_class c ON x.refclassid = 'pg_class'::regclass AND c.oid = x.refobjid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a
      ON x.refobjsubid > 0 AND a.attrelid = c.oid AND a.attnum = x.refobjsubid
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    UNION ALL
    -- A table's row type (a function returning SETOF it) counts as the table.
    SELECT x.cls, x.oid, 'r', n.nspname::text, c.relname::text, NULL
    FROM deps x
    JOIN pg_type t ON x.refclassid = 'pg_type'::regclass AND t.oid = x.refobjid
    JOIN pg_class c ON c.oid = t.typrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    UNION ALL
    SELECT x.cls, x.oid, 'f', n.nspname::text, p.proname::text,
           pg_get_function_identity_arguments(p.oid)
    FROM deps x
    JOIN pg_proc p ON x.refclassid = 'pg_proc'::regclass AND p.oid = x.refobjid
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
)
SELECT
    o.kind, o.schema, o.name, o.args, o.table_schema, o.table_name, o.definition,
    -- A materialized view's indexes, created again with it.
    CASE WHEN o.kind = 'materialized_view' THEN
        ARRAY(SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
              WHERE i.indrelid = o.oid ORDER BY 1)
    ELSE '{}' END AS indexes,
    COALESCE(array_agg(d.kind) FILTER (WHERE d.kind IS NOT NULL), '{}') AS dep_kinds,
    COALESCE(array_agg(d.schema) FILTER (WHERE d.kind IS NOT NULL), '{}') AS dep_schemas,
    COALESCE(array_agg(d.name) FILTER (WHERE d.kind IS NOT NULL), '{}') AS dep_names,
    COALESCE(array_agg(d.detail) FILTER (WHERE d.kind IS NOT NULL), '{}') AS dep_details
FROM mine o
LEFT JOIN named d ON d.cls = o.cls AND d.oid = o.oid
GROUP BY o.cls, o.oid, o.kind, o.schema, o.name, o.args, o.table_schema, o.table_name,
         o.definition
ORDER BY 2, 1, 3, 4
