-- DROP EXTENSION removes every object it created; a re-install works.
SET client_min_messages = warning;
SELECT count(*) > 0 AS has_objects FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE e.extname = 'pg_autoassign' AND d.deptype = 'e';
DROP EXTENSION pg_autoassign;
-- PostgreSQL creates the control file's schema before the extension exists, so the
-- schema itself outlives DROP EXTENSION; everything the extension put in it is gone.
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'autoassign') AS relations_left,
       (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'autoassign') AS functions_left,
       (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'autoassign') AS types_left,
       (SELECT count(*) FROM pg_proc WHERE proname LIKE 'autoassign%') AS api_functions_anywhere;
CREATE EXTENSION pg_autoassign;
SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'autoassign';
