-- Catalog checks on schema autoassign (runs after setup, which created the extension).
-- 1. SPEC §9: every primary key, unique constraint, unique index, foreign key and
--    exclusion constraint on tenant data includes restaurant_id, so the schema can be
--    distributed by it. Tenant data = every table with a restaurant_id column, except
--    autoassign.events (telemetry: a call for an unknown booking has no restaurant; the
--    documented exemption in sql/schema.sql) and autoassign.restaurants (its id is the
--    tenant key). Expected: no rows.
-- 2. Functions whose proconfig does not pin search_path (SPEC §1: "every function pins
--    its search_path"). Informational: today's list, not an assertion of zero.
-- 3. pg_dump carries an extension's data only for tables (and sequences) marked with
--    pg_extension_config_dump; everything else is lost in a dump/restore, and an
--    identity sequence not marked restarts at 1 after a restore. Expected: no rows.
SET client_min_messages = warning;

-- 1. keys and constraints on tenant data without restaurant_id
WITH tenant AS (
    SELECT c.oid AS relid, a.attnum AS rid_col
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'restaurant_id' AND NOT a.attisdropped
     WHERE n.nspname = 'autoassign' AND c.relkind IN ('r', 'p')
       AND c.relname NOT IN ('events', 'restaurants')
), keys AS (
    SELECT t.relid, con.conname AS name,
           CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                            WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclusion' END AS kind,
           con.conkey AS cols, t.rid_col
      FROM tenant t
      JOIN pg_constraint con ON con.conrelid = t.relid AND con.contype IN ('p', 'u', 'f', 'x')
    UNION ALL
    -- unique indexes that back no constraint (those are checked above)
    SELECT t.relid, i.indexrelid::regclass::text, 'unique index',
           i.indkey::int2[], t.rid_col
      FROM tenant t
      JOIN pg_index i ON i.indrelid = t.relid AND i.indisunique
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid
                                                        AND con.conrelid = t.relid)
)
SELECT k.relid::regclass AS table_name, k.name, k.kind,
       (SELECT string_agg(coalesce(a.attname::text, 'expr'), ', ' ORDER BY u.ord)
          FROM unnest(k.cols) WITH ORDINALITY AS u(attnum, ord)
          LEFT JOIN pg_attribute a ON a.attrelid = k.relid AND a.attnum = u.attnum) AS columns
  FROM keys k
 WHERE NOT k.rid_col = ANY (k.cols)
 ORDER BY k.relid::regclass::text, k.name;

-- 2. functions that do not pin search_path (informational)
SELECT p.oid::regprocedure AS function,
       CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure'
                      WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' END AS kind,
       l.lanname AS language
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = 'autoassign'
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS s(setting)
                    WHERE s.setting LIKE 'search\_path=%')
 ORDER BY p.oid::regprocedure::text;

-- 3. tables and sequences of schema autoassign that pg_dump would not carry
SELECT c.oid::regclass AS relation,
       CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'autoassign' AND c.relkind IN ('r', 'p', 'S')
   AND NOT EXISTS (SELECT 1 FROM pg_extension e
                    WHERE e.extname = 'pg_autoassign' AND c.oid = ANY (e.extconfig))
 ORDER BY kind DESC, c.oid::regclass::text;
