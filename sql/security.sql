-- pg_autoassign security: least privilege and hostile input (README "Security").
-- Loaded last (finalize), so every object it governs already exists. The whole privilege
-- model is here:
--   1. roles: autoassign_api, autoassign_admin, autoassign_reader (NOLOGIN);
--   2. tenants: restaurant_access says which roles act for which restaurant; row-level
--      security on every tenant table follows it; the Rust functions check it
--      (src/postgres/security.rs);
--   3. grants: PUBLIC gets nothing; each role gets what its job needs;
--   4. write paths run as SECURITY DEFINER, owned by the extension owner;
--   5. every function pins search_path (three inlinable SQL helpers qualify every name
--      instead), so nothing planted in another schema ever runs inside ours; the
--      functions in Rust also pin plan_cache_mode = auto;
--   6. hostile input: finite stays, real time zones.
-- The extension owner (@extowner@, who ran CREATE EXTENSION: the database owner on a
-- managed service) owns every object, acts for every restaurant, and bypasses row-level
-- security as table owner. Superusers do too.

-------------------------------------------------------------------------------------------
-- 1. Roles. Roles are cluster-wide: created once, reused by every database that installs
--    pg_autoassign. A login role gets one of them with GRANT (README "Security").

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['autoassign_reader', 'autoassign_api', 'autoassign_admin'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    -- an admin can do what the booking API and the diagnostics can
    IF NOT pg_catalog.pg_has_role('autoassign_admin', 'autoassign_api', 'MEMBER') THEN
        GRANT autoassign_api TO autoassign_admin;
    END IF;
    IF NOT pg_catalog.pg_has_role('autoassign_admin', 'autoassign_reader', 'MEMBER') THEN
        GRANT autoassign_reader TO autoassign_admin;
    END IF;
    -- the extension owner hands the roles to its application's login roles
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE oid = '@extowner@'::regrole)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                        WHERE m.roleid = 'autoassign_admin'::regrole
                          AND m.member = '@extowner@'::regrole AND m.admin_option) THEN
        GRANT autoassign_admin, autoassign_api, autoassign_reader TO @extowner@ WITH ADMIN OPTION;
    END IF;
END $$;

-------------------------------------------------------------------------------------------
-- 2. Tenants.

-- Which roles act for which restaurant. A role acts for a restaurant when it is, or is a
-- member of (with INHERIT), a role listed here for it. Superusers and members of the
-- extension owner act for every restaurant. Grant and revoke with the functions below.
CREATE TABLE restaurant_access (
    restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    role_name name NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (restaurant_id, role_name)
);
CREATE INDEX restaurant_access_role ON restaurant_access (role_name);
SELECT pg_catalog.pg_extension_config_dump('restaurant_access', '');

-- The role the session acts as: SET ROLE's role, else the login role. SECURITY DEFINER
-- changes current_user but not this, so it names the caller inside our functions.
CREATE FUNCTION acting_role() RETURNS name
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting('role') = 'none' THEN session_user
                ELSE current_setting('role')::name END
$$;

-- Whether role p_role acts for restaurant p_restaurant (NULL: for every restaurant).
-- src/postgres/security.rs asks this for every booking, restaurant and table it touches.
CREATE FUNCTION may_access(p_restaurant uuid, p_role oid) RETURNS bool
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(p_role, c.relowner, 'USAGE')
        OR (p_restaurant IS NOT NULL
            AND EXISTS (SELECT 1 FROM autoassign.restaurant_access a
                          JOIN pg_roles r ON r.rolname = a.role_name
                         WHERE a.restaurant_id = p_restaurant
                           AND pg_has_role(p_role, r.oid, 'USAGE')))
      FROM pg_class c
     WHERE c.oid = 'autoassign.restaurants'::regclass
$$;

-- The oid of a role by its exact name (a name::regrole cast would fold it to lower case).
CREATE FUNCTION role_oid(p_name name) RETURNS oid
LANGUAGE sql STABLE AS $$
    SELECT r.oid FROM pg_roles r WHERE r.rolname = p_name
$$;

-- Lets role_name act for a restaurant. Allowed for the extension owner, superusers, and
-- admins who act for that restaurant themselves.
CREATE FUNCTION autoassign_grant_restaurant(restaurant_id uuid, role_name name) RETURNS bool
LANGUAGE plpgsql AS $$
BEGIN
    IF restaurant_id IS NULL OR role_name IS NULL THEN
        RAISE EXCEPTION 'restaurant_id and role_name must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = autoassign_grant_restaurant.role_name) THEN
        RAISE EXCEPTION 'role "%" does not exist', left(role_name, 64) USING ERRCODE = '42704';
    END IF;
    IF NOT autoassign.may_access(restaurant_id, autoassign.role_oid(autoassign.acting_role()))
       OR NOT pg_has_role(autoassign.acting_role(), 'autoassign_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied: % may not grant restaurant %', autoassign.acting_role(), restaurant_id
            USING ERRCODE = '42501',
                  HINT = 'The extension owner, or an admin (autoassign_admin) who acts for the restaurant, grants it.';
    END IF;
    IF NOT EXISTS (SELECT FROM autoassign.restaurants r WHERE r.id = autoassign_grant_restaurant.restaurant_id) THEN
        RAISE EXCEPTION 'restaurant % does not exist', restaurant_id USING ERRCODE = 'P0002';
    END IF;
    INSERT INTO autoassign.restaurant_access AS a (restaurant_id, role_name)
    VALUES (autoassign_grant_restaurant.restaurant_id, autoassign_grant_restaurant.role_name)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END $$;

CREATE FUNCTION autoassign_revoke_restaurant(restaurant_id uuid, role_name name) RETURNS bool
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT autoassign.may_access(restaurant_id, autoassign.role_oid(autoassign.acting_role()))
       OR NOT pg_has_role(autoassign.acting_role(), 'autoassign_admin', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied: % may not revoke restaurant %', autoassign.acting_role(), restaurant_id
            USING ERRCODE = '42501',
                  HINT = 'The extension owner, or an admin (autoassign_admin) who acts for the restaurant, revokes it.';
    END IF;
    DELETE FROM autoassign.restaurant_access a
     WHERE a.restaurant_id = autoassign_revoke_restaurant.restaurant_id
       AND a.role_name = autoassign_revoke_restaurant.role_name;
    RETURN FOUND;
END $$;

-- An admin who creates a restaurant acts for it from then on (the row lands before the
-- restaurant does: its foreign key is deferred, so INSERT ... RETURNING already sees it).
-- An id that already exists is refused here, before the grant: an INSERT ... ON CONFLICT
-- of another restaurant's id must not leave its author a grant for it.
CREATE FUNCTION restaurants_grant_creator() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    creator name := autoassign.acting_role();
BEGIN
    IF EXISTS (SELECT FROM autoassign.restaurants r WHERE r.id = NEW.id) THEN
        RAISE EXCEPTION 'restaurant % already exists', NEW.id
            USING ERRCODE = '23505', HINT = 'Insert a new restaurant without naming an existing id.';
    END IF;
    IF NOT autoassign.may_access(NULL, autoassign.role_oid(creator)) THEN
        INSERT INTO autoassign.restaurant_access (restaurant_id, role_name)
        VALUES (NEW.id, creator) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER restaurants_grant_creator BEFORE INSERT ON restaurants
    FOR EACH ROW EXECUTE FUNCTION restaurants_grant_creator();

-- Row-level security: a role sees and changes only its restaurants' rows, whichever table
-- it reads. restaurant_access shows a role its own grants, so each policy is one semi-join
-- that the planner runs once per query.
ALTER TABLE restaurant_access ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON restaurant_access FOR SELECT
    USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname = restaurant_access.role_name
                      AND pg_catalog.pg_has_role(r.oid, 'USAGE')));

-- Whether the caller has a grant for the restaurant. VOLATILE, so that it sees the grant
-- restaurants_grant_creator made earlier in the same INSERT ... RETURNING.
CREATE FUNCTION granted_restaurant(p_restaurant uuid) RETURNS bool
LANGUAGE sql VOLATILE AS $$
    SELECT EXISTS (SELECT 1 FROM autoassign.restaurant_access a WHERE a.restaurant_id = p_restaurant)
$$;

ALTER TABLE restaurants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON restaurants USING (autoassign.granted_restaurant(id));
CREATE POLICY admin_creates ON restaurants FOR INSERT TO autoassign_admin WITH CHECK (true);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['zones', 'tables', 'table_adjacency', 'bookings', 'allocations',
                             'holds', 'events', 'outbox', 'retry_queue'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE autoassign.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant ON autoassign.%I
                 USING (restaurant_id IN (SELECT a.restaurant_id FROM autoassign.restaurant_access a))', t);
    END LOOP;
END $$;

-------------------------------------------------------------------------------------------
-- 6. Hostile input (before the grants, so its functions are covered below).

-- A stay lies between 1900 and 3000: 'infinity' would block a table for ever, and a stay
-- near the end of the timestamp range overflows the sweep's arithmetic (22008).
ALTER TABLE bookings ADD CONSTRAINT bookings_stay_bounded
    CHECK (start_at >= '1900-01-01 00:00+00' AND start_at < '3000-01-01 00:00+00'
           AND (end_at IS NULL OR end_at < '3000-01-01 00:00+00'));

-- A restaurant's time zone must be one PostgreSQL knows (22023 otherwise).
CREATE FUNCTION restaurants_timezone_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM now() AT TIME ZONE NEW.timezone;
    RETURN NEW;
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE EXCEPTION 'time zone "%" is not recognised', left(NEW.timezone, 64)
        USING ERRCODE = '22023',
              HINT = 'Use a name from pg_timezone_names, such as Europe/London.';
END $$;
CREATE TRIGGER restaurants_timezone_check BEFORE INSERT OR UPDATE OF timezone ON restaurants
    FOR EACH ROW EXECUTE FUNCTION restaurants_timezone_check();

-------------------------------------------------------------------------------------------
-- 3. Grants. PUBLIC gets nothing (on the functions: the pass over them below);
--    each role gets what its job needs.

GRANT USAGE ON SCHEMA autoassign TO autoassign_reader, autoassign_api, autoassign_admin;

-- Every role: the pure helpers its queries may use.
GRANT EXECUTE ON FUNCTION stay_end(timestamptz, timestamptz, int, int), stay_range(bookings, restaurants),
    clock_now(), acting_role(), granted_restaurant(uuid), role_oid(name),
    booking_movable(text, bool, timestamptz, int)
    TO autoassign_reader, autoassign_api, autoassign_admin;

-- autoassign_reader: diagnostics. Reads every table and view, its restaurants' rows only.
GRANT SELECT ON ALL TABLES IN SCHEMA autoassign TO autoassign_reader;
GRANT EXECUTE ON FUNCTION
    autoassign_explain(uuid, jsonb, text),
    autoassign_free_capacity(uuid, timestamptz, timestamptz),
    autoassign_free_capacity_ts(uuid, timestamptz, timestamptz),
    autoassign_booking_history(uuid),
    autoassign_stats(),
    autoassign_floor_cache_stats(),
    autoassign_event_queue_stats(),
    autoassign_alternatives(uuid, interval, interval, jsonb)
    TO autoassign_reader;

-- autoassign_api: the booking API. Books, quotes, confirms and cancels through the
-- functions; inserts bookings and makes the booking app's own status and stay changes
-- (the lifecycle triggers check each one); never writes allocations, holds, outbox,
-- events or the retry queue, and cannot set a booking's status or outcome on insert.
GRANT SELECT ON restaurants, zones, tables, table_adjacency, bookings, allocations,
    booking_transitions, restaurant_access TO autoassign_api;
-- no id: booking ids come from gen_random_uuid(), so no tenant can create a booking
-- whose id another restaurant already uses (the functions take a bare booking id)
GRANT INSERT (restaurant_id, party_size, start_at, end_at, zone_id, pinned) ON bookings TO autoassign_api;
GRANT UPDATE (party_size, start_at, end_at, zone_id, status, pinned, updated_at) ON bookings TO autoassign_api;
GRANT EXECUTE ON FUNCTION
    autoassign_quote(uuid, jsonb, text, int, boolean),
    autoassign_confirm(uuid, jsonb, text),
    autoassign_cancel(uuid, text),
    autoassign_free_capacity(uuid, timestamptz, timestamptz),
    autoassign_free_capacity_ts(uuid, timestamptz, timestamptz),
    autoassign_alternatives(uuid, interval, interval, jsonb)
    TO autoassign_api;

-- autoassign_admin (also a member of the two above): its restaurants' floors, table
-- retirement, the sweep of its restaurants, outbox delivery, and who acts for its
-- restaurants. What every restaurant of the database shares (the retry policy, the
-- pg_cron job, pruning telemetry) stays with the extension owner: roles are
-- cluster-wide, and one restaurant's admin must not change them for the others.
GRANT INSERT, UPDATE, DELETE ON restaurants, zones, tables, table_adjacency TO autoassign_admin;
GRANT DELETE ON bookings TO autoassign_admin;
GRANT UPDATE (sent_at) ON outbox TO autoassign_admin;
GRANT USAGE ON SEQUENCE floor_version_seq TO autoassign_admin;
GRANT EXECUTE ON FUNCTION
    autoassign_retire_table(uuid, timestamptz),
    autoassign_retire_table_at(uuid, timestamptz, text),
    autoassign_sweep(int, int, uuid, timestamptz),
    autoassign_stats_reset(),
    autoassign_flush_events(int),
    autoassign_optimize(uuid, timestamptz, timestamptz, jsonb, text),
    autoassign_grant_restaurant(uuid, name),
    autoassign_revoke_restaurant(uuid, name),
    autoassign_demo_load(date, bigint),
    ops_stress_create(int, int, date),
    ops_stress_drop(uuid)
    TO autoassign_admin;

-------------------------------------------------------------------------------------------
-- 3. to 5. One pass over the extension's functions (its pg_depend members):
--  - PUBLIC may execute none of them (3); the grants above name each role's.
--  - SECURITY DEFINER (4): the write paths, the tenant lookups, and every trigger
--    function (a trigger fired by the API's UPDATE writes allocations, outbox and queue
--    rows the API role may not write itself). Each checks the caller's restaurant itself.
--  - search_path (5). Every function runs with search_path = pg_catalog, pg_temp:
--    built-in names resolve in pg_catalog, ours are written autoassign.x, and nothing a
--    user can create elsewhere (public, pg_temp) is ever found first. The inlinable SQL
--    helpers (stay_end, stay_range, booking_movable) cannot carry a SET clause without
--    losing inlining in hot queries, so every name in their bodies is schema-qualified
--    instead (sql/schema.sql, sql/seating.sql); clock_now is a C function that resolves
--    no name; pgrx-tests/sql/security.sql plants shadows to prove both.
--  - plan_cache_mode (5). The functions in Rust keep their SPI statements prepared; the
--    choice between a generic and a custom plan is PostgreSQL's default one whatever the
--    session set (force_custom_plan re-planned every statement of every call: quotes
--    took 3x longer, issue 11).

DO $$
DECLARE
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig, p.proname, l.lanname,
               p.prorettype = 'pg_catalog.trigger'::regtype AS is_trigger
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_proc p ON p.oid = d.objid
          JOIN pg_catalog.pg_language l ON l.oid = p.prolang
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
           AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.sig);
        IF f.is_trigger
           OR f.proname IN ('autoassign_quote', 'autoassign_confirm', 'autoassign_cancel',
                            'autoassign_explain', 'autoassign_free_capacity_ts',
                            'autoassign_retire_table_at', 'autoassign_sweep',
                            'replan_booking', 'booking_plan_problem',
                            'autoassign_stats', 'autoassign_stats_reset',
                            'autoassign_schedule_sweep', 'autoassign_unschedule_sweep',
                            'autoassign_prune_events', 'autoassign_demo_load',
                            'may_access', 'autoassign_grant_restaurant',
                            'autoassign_revoke_restaurant', 'lock_tables',
                            'release_tables', 'wake_overlapping',
                            'autoassign_alternatives', 'autoassign_optimize',
                            'party_mix') THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER', f.sig);
        END IF;
        IF f.proname NOT IN ('stay_end', 'stay_range', 'clock_now', 'booking_movable') THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f.sig);
            IF f.lanname = 'c' THEN
                EXECUTE pg_catalog.format('ALTER FUNCTION %s SET plan_cache_mode = auto', f.sig);
            END IF;
        END IF;
    END LOOP;
END $$;

-- Views check the caller's privileges and row-level security, not the view owner's.
ALTER VIEW quote_latency SET (security_invoker = true);
ALTER VIEW reason_breakdown SET (security_invoker = true);
ALTER VIEW booking_outcomes SET (security_invoker = true);
ALTER VIEW booking_transitions SET (security_invoker = true);
ALTER VIEW stats SET (security_invoker = true);
ALTER VIEW event_queue SET (security_invoker = true);

-------------------------------------------------------------------------------------------
-- 7. Ownership. A trusted install runs this script as the bootstrap superuser; every
--    object then goes to the extension owner, so SECURITY DEFINER functions run with
--    the database owner's rights, never a superuser's. (A superuser install: no change.)

DO $$
DECLARE
    cmd text;
BEGIN
    FOR cmd IN
        SELECT pg_catalog.format('ALTER %s %s OWNER TO %s', o.kind, o.ident, '@extowner@')
          FROM pg_catalog.pg_depend d
          CROSS JOIN LATERAL (
              SELECT CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' WHEN 'S' THEN 'SEQUENCE' END,
                     c.oid::regclass::text, c.relowner
                FROM pg_catalog.pg_class c
               WHERE d.classid = 'pg_catalog.pg_class'::regclass AND c.oid = d.objid
                 AND c.relkind IN ('r', 'v', 'S')
                 -- identity sequences follow their table
                 AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend x
                                  WHERE x.classid = 'pg_catalog.pg_class'::regclass
                                    AND x.objid = c.oid AND x.deptype IN ('a', 'i'))
              UNION ALL
              SELECT 'FUNCTION', p.oid::regprocedure::text, p.proowner
                FROM pg_catalog.pg_proc p
               WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND p.oid = d.objid
              UNION ALL
              SELECT 'DOMAIN', t.oid::regtype::text, t.typowner
                FROM pg_catalog.pg_type t
               WHERE d.classid = 'pg_catalog.pg_type'::regclass AND t.oid = d.objid AND t.typtype = 'd'
          ) AS o (kind, ident, owner)
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
           AND d.deptype = 'e'
           AND o.owner <> '@extowner@'::regrole
    LOOP
        EXECUTE cmd;
    END LOOP;
END $$;
