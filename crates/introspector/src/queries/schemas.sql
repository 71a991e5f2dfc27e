-- The configured schemas ($1) that exist, so that an empty one is known to be there (it is
-- neither created by up nor dropped by down).
SELECT n.nspname::text AS name
FROM pg_namespace n
WHERE n.nspname = ANY($1::text[])
ORDER BY 1
