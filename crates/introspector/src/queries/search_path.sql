-- Pins the search path for the rest of the snapshot transaction, so that format_type and
-- pg_get_expr qualify names the same way whatever the session's own setting is: objects in
-- public print unqualified, objects in other schemas print schema-qualified.
SELECT set_config('search_path', 'pg_catalog, public', true) AS search_path
