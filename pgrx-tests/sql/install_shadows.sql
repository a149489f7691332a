-- Shadows planted BEFORE the install (issue 10 review): while CREATE EXTENSION runs, the
-- schemas of required extensions (btree_gist's public) are on its search_path, so an
-- operator or function planted there could bind into a CHECK, default, index or policy
-- and run as the installer. The install script pins its own path first: nothing planted
-- runs, and no member of the extension depends on anything outside pg_catalog, our
-- schema and btree_gist.
SET client_min_messages = warning;
\set SHOW_CONTEXT never
DROP EXTENSION pg_autoassign;

CREATE ROLE pgaa_planter NOLOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO pgaa_planter;
SET ROLE pgaa_planter;
CREATE TABLE public.planted_log (what text);
GRANT INSERT, SELECT ON public.planted_log TO PUBLIC;
-- float8 >= int: retry_policy's CHECKs compared jitter >= 0 with no exact built-in match
CREATE FUNCTION public.planted_ge(float8, int) RETURNS bool LANGUAGE sql AS
    $$ INSERT INTO public.planted_log VALUES ('>=(float8,int)') RETURNING true $$;
CREATE OPERATOR public.>= (LEFTARG = float8, RIGHTARG = int, FUNCTION = public.planted_ge);
CREATE FUNCTION public.planted_gt(int, int) RETURNS bool LANGUAGE sql AS
    $$ INSERT INTO public.planted_log VALUES ('>(int,int)') RETURNING true $$;
CREATE OPERATOR public.> (LEFTARG = int, RIGHTARG = int, FUNCTION = public.planted_gt);
CREATE FUNCTION public.gen_random_uuid() RETURNS uuid LANGUAGE sql AS
    $$ INSERT INTO public.planted_log VALUES ('gen_random_uuid'); SELECT pg_catalog.gen_random_uuid() $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS
    $$ INSERT INTO public.planted_log VALUES ('now'); SELECT pg_catalog.now() $$;
RESET ROLE;

CREATE EXTENSION pg_autoassign CASCADE;
-- the install and a first use ran nothing planted
UPDATE autoassign.retry_policy SET jitter = jitter WHERE class = 'transient';
INSERT INTO autoassign.restaurants (name) VALUES ('Planted Inn');
SELECT count(*) AS planted_runs FROM public.planted_log;
-- nothing of ours (constraints, defaults, indexes, policies, views, functions) depends
-- on a function, operator or type outside pg_catalog and autoassign, btree_gist's aside
SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent,
       pg_describe_object(d.refclassid, d.refobjid, 0) AS depends_on
  FROM pg_depend d
 WHERE d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass, 'pg_type'::regclass)
   AND pg_describe_object(d.classid, d.objid, d.objsubid) LIKE '%autoassign.%'
   AND coalesce((SELECT p.pronamespace FROM pg_proc p WHERE d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid),
                (SELECT o.oprnamespace FROM pg_operator o WHERE d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid),
                (SELECT t.typnamespace FROM pg_type t WHERE d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid))
       NOT IN ('pg_catalog'::regnamespace, 'autoassign'::regnamespace)
   AND NOT EXISTS (SELECT 1 FROM pg_depend b
                    WHERE b.classid = d.refclassid AND b.objid = d.refobjid AND b.deptype = 'e'
                      AND b.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'btree_gist'))
 ORDER BY 1, 2;
-- control: the plant works on anything written without a pinned path
CREATE TEMP TABLE probe (jitter float8 CHECK (jitter >= 0));
SELECT count(*) AS probe_binds_planted FROM pg_depend
 WHERE refobjid = 'public.>=(float8,int)'::regoperator;
DROP TABLE probe;

DELETE FROM autoassign.restaurants WHERE name = 'Planted Inn';
DROP OWNED BY pgaa_planter;
DROP ROLE pgaa_planter;
