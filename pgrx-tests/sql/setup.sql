-- Runs first: a stock cluster installs the extension and its btree_gist dependency.
SET client_min_messages = warning;
CREATE EXTENSION pg_autoassign CASCADE;
SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname IN ('pg_autoassign', 'btree_gist') ORDER BY extname;
