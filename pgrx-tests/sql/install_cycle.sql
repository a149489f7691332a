-- DROP EXTENSION removes every object it created; a re-install works.
SET client_min_messages = warning;
SELECT count(*) > 0 AS has_objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE e.extname = 'pg_autoassign' AND d.deptype = 'e';
DROP EXTENSION pg_autoassign;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'autoassign';
SELECT count(*) AS functions_left FROM pg_proc WHERE proname LIKE 'autoassign%';
CREATE EXTENSION pg_autoassign;
SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'autoassign';
