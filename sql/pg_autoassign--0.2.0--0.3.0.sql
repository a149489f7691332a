\echo Use "ALTER EXTENSION pg_autoassign UPDATE TO '0.3.0'" to load this file. \quit

-- pg_autoassign 0.2.0 -> 0.3.0. Runs inside ALTER EXTENSION ... UPDATE (one transaction,
-- search_path = autoassign) and leaves exactly what a fresh 0.3.0 install creates,
-- keeping every row. scripts/upgrade_test.sh upgrades a database with data and compares
-- its catalog with a fresh 0.3.0 install. Definitions are copied verbatim from the 0.3.0
-- install script (tasks/security-20261130-0900/upgrade-builder).
--
-- What changes:
--   * security (issue 10): roles, restaurant_access and row-level security, grants,
--     SECURITY DEFINER write paths, pinned search_path on every function, ownership by
--     the extension owner, finite stays, time zone check (sql/security.sql, last below);
--   * telemetry off the caller's transaction (issue 12): autoassign_stats() gains
--     per-database keys and event counters; autoassign_event_queue_stats(),
--     autoassign_flush_events() and the view event_queue;
--   * seat everyone (issue 13): bookings.pinned, restaurants.freeze_minutes, the
--     allocation guard, quote/confirm with moves and alternatives, autoassign_alternatives,
--     autoassign_optimize;
--   * the operator's tool (issue 14): views service_timeline and service_quotes,
--     ops_stress_create / ops_stress_drop;
--   * stay_end and stay_range qualify every name (they stay inlinable); clock_now is a
--     library function (a placeholder value of the superuser-only clock is never read).

-- Nothing planted in the schemas of required extensions (btree_gist's public) may bind
-- into what this script writes (see sql/schema.sql); LOCAL: restored when it ends.
SET LOCAL search_path = autoassign, pg_catalog, pg_temp;

-------------------------------------------------------------------------------------------
-- 1. The inlinable helpers, now hijack-proof; clock_now moves into the library.

-- When a booking releases its tables: end (or start + default duration) + turnover
-- buffer. Scalar arguments keep it inlinable in hot queries (a whole-row argument
-- would build a composite datum per row).
CREATE OR REPLACE FUNCTION stay_end(start_at timestamptz, end_at timestamptz,
                         default_duration_minutes int, buffer_after_minutes int) RETURNS timestamptz
-- STABLE, like timestamptz + interval itself: a function declared IMMUTABLE over a STABLE
-- body is never inlined
-- Every name is schema-qualified (and no SET search_path, which would stop inlining):
-- inlined into a caller's query, the body resolves nothing through the caller's path.
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(end_at, start_at OPERATOR(pg_catalog.+)
                            pg_catalog.make_interval(mins => default_duration_minutes))
           OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => buffer_after_minutes)
$$;

-- The window a booking blocks its tables for: [start, end + turnover buffer).
CREATE OR REPLACE FUNCTION stay_range(b bookings, r restaurants) RETURNS tstzrange
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.tstzrange(b.start_at,
                     autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, r.buffer_after_minutes))
$$;

-- pg_autoassign::api::clock::clock_now
CREATE OR REPLACE FUNCTION "clock_now"() RETURNS timestamp with time zone /* TimestampWithTimeZone */
STRICT STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'clock_now_wrapper';

-------------------------------------------------------------------------------------------
-- 2. Telemetry off the caller's transaction (issue 12): the statistics gain per-database
--    keys and event counters (new result columns: the view and function are re-created),
--    the event queue's view and flush function.

DROP VIEW stats;
DROP FUNCTION autoassign_stats();

-- pg_autoassign::api::stats::autoassign_stats
CREATE  FUNCTION "autoassign_stats"() RETURNS TABLE (
	"restaurant_id" uuid,  /* Option < Uuid > */
	"source" TEXT,  /* String */
	"reason" TEXT,  /* String */
	"calls" bigint,  /* i64 */
	"total_us" bigint,  /* i64 */
	"mean_us" double precision,  /* f64 */
	"max_us" bigint,  /* i64 */
	"p50_us" bigint,  /* Option < i64 > */
	"p95_us" bigint,  /* Option < i64 > */
	"p99_us" bigint,  /* Option < i64 > */
	"events_queued" bigint,  /* i64 */
	"events_written" bigint,  /* i64 */
	"events_dropped" bigint  /* i64 */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_stats_wrapper';

CREATE VIEW stats AS SELECT * FROM autoassign.autoassign_stats();
COMMENT ON VIEW stats IS
    'Planner calls per restaurant, source and reason from shared memory: survives rollbacks; reset with autoassign_stats_reset().';

-- pg_autoassign::api::stats::autoassign_event_queue_stats
CREATE  FUNCTION "autoassign_event_queue_stats"() RETURNS TABLE (
	"queued" bigint,  /* i64 */
	"in_flight" bigint,  /* i64 */
	"enqueued" bigint,  /* i64 */
	"written" bigint,  /* i64 */
	"dropped" bigint,  /* i64 */
	"lost" bigint,  /* i64 */
	"standby" bigint,  /* i64 */
	"written_sync" bigint,  /* i64 */
	"log_lines" bigint,  /* i64 */
	"log_suppressed" bigint,  /* i64 */
	"writer_pid" INT,  /* Option < i32 > */
	"launcher_pid" INT,  /* Option < i32 > */
	"queue_capacity" bigint,  /* i64 */
	"queue_free" bigint,  /* i64 */
	"stats_keys" bigint,  /* i64 */
	"stats_keys_total" bigint,  /* i64 */
	"stats_max" bigint,  /* i64 */
	"stats_evictions" bigint  /* i64 */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_event_queue_stats_wrapper';

-- pg_autoassign::api::stats::autoassign_flush_events
CREATE  FUNCTION "autoassign_flush_events"(
	"timeout_ms" INT DEFAULT 30000 /* i32 */
) RETURNS bigint /* i64 */
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_flush_events_wrapper';

-- pg_autoassign asynchronous telemetry (issue 12): the event queue's counters for the
-- current database. Loaded after telemetry.sql and the Rust functions it wraps.

CREATE VIEW autoassign.event_queue AS SELECT * FROM autoassign.autoassign_event_queue_stats();

COMMENT ON VIEW autoassign.event_queue IS
'The current database''s planner-event queue (needs shared_preload_libraries): queued and in_flight '
'now; enqueued, written, dropped (queue full), lost (writer died mid-batch), standby (not writable '
'on a hot standby), written_sync since start; rate-limited planner log lines (log_lines, '
'log_suppressed); writer_pid; queue_capacity/queue_free (all databases); planner-statistics keys of '
'this database, of all databases, stats_max and stats_evictions.';

COMMENT ON FUNCTION autoassign.autoassign_flush_events(int) IS
'Writes the current database''s queued planner events now and waits (at most timeout_ms) until '
'everything queued before the call is committed; returns the rows written meanwhile. 0 without '
'shared_preload_libraries or on a hot standby.';

-------------------------------------------------------------------------------------------
-- 3. Seat everyone (issue 13): pinned bookings, the freeze window and the allocation
--    guard (sql/seating.sql, as a fresh install runs it: the columns are added with their
--    defaults in both, so existing rows read the same missing value); quote and confirm
--    gain the moves and alternatives columns; alternatives and optimize.

-- Seating (issue 13): pinned bookings, the freeze window, and the guard that keeps
-- them on their tables whatever path writes. Loaded after lifecycle.sql.
--
-- Re-assignment (autoassign_confirm when no plan is free, autoassign_optimize) moves
-- only bookings that are confirmed, not seated, not pinned, and start after
-- now + freeze_minutes. The guard below makes the database refuse any other path that
-- would change the tables of a pinned, seated or frozen booking.

ALTER TABLE bookings ADD COLUMN pinned boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN bookings.pinned IS
    'Pinned to its tables (host''s choice, guest''s request, VIP): never moved by re-assignment or any other path while it holds them.';

ALTER TABLE restaurants ADD COLUMN freeze_minutes int NOT NULL DEFAULT 30
    CONSTRAINT restaurants_freeze_minutes_range CHECK (freeze_minutes BETWEEN 0 AND 1440);
COMMENT ON COLUMN restaurants.freeze_minutes IS
    'A confirmed booking that starts within this many minutes from now keeps its tables: re-assignment never moves it.';

-- Whether a table-holding booking may change tables now: confirmed, not pinned, and
-- starting after now + the restaurant's freeze window. The one definition, used by the
-- guard and by the re-assignment's loads (src/postgres/seating.rs).
CREATE FUNCTION booking_movable(p_status text, p_pinned bool, p_start timestamptz, p_freeze_minutes int)
RETURNS bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- every name qualified, no SET clause: it stays inlinable (sql/security.sql)
    SELECT p_status OPERATOR(pg_catalog.=) 'confirmed' AND NOT p_pinned
           AND p_start OPERATOR(pg_catalog.>) (autoassign.clock_now()
               OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => p_freeze_minutes))
$$;

-- BEFORE INSERT / DELETE / UPDATE OF table_id on allocations: a booking that holds
-- tables (confirmed or seated) and is pinned, seated or frozen cannot lose or gain a
-- table. Releasing tables by a status change (cancel, no-show, complete, un-assign)
-- runs after the status changed, so it passes; so does a pending booking's confirm, a
-- stay change (UPDATE OF during), and the past (allocations that ended).
CREATE FUNCTION allocations_keep_seating() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rec record;
    r_id uuid;
    b_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF upper(OLD.during) <= autoassign.clock_now() THEN
            RETURN OLD;
        END IF;
        r_id := OLD.restaurant_id;
        b_id := OLD.booking_id;
    ELSIF TG_OP = 'UPDATE' AND NEW.table_id IS NOT DISTINCT FROM OLD.table_id THEN
        RETURN NEW;
    ELSE
        r_id := NEW.restaurant_id;
        b_id := NEW.booking_id;
    END IF;
    SELECT b.status, b.pinned,
           NOT autoassign.booking_movable(b.status, b.pinned, b.start_at, r.freeze_minutes) AS fixed
      INTO rec
      FROM autoassign.bookings b
      JOIN autoassign.restaurants r ON r.id = b.restaurant_id
     WHERE b.restaurant_id = r_id AND b.id = b_id;
    IF FOUND AND rec.status IN ('confirmed', 'seated') AND rec.fixed THEN
        RAISE EXCEPTION 'booking %: its tables cannot change (%)', b_id,
            CASE WHEN rec.status = 'seated' THEN 'seated'
                 WHEN rec.pinned THEN 'pinned'
                 ELSE 'starts within the restaurant''s freeze window' END
            USING ERRCODE = '23514',
                  HINT = 'Seated, pinned and soon-starting bookings keep their tables. Unpin it '
                      || '(UPDATE autoassign.bookings SET pinned = false), or set it back to pending '
                      || 'so auto-assign plans it again.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER allocations_keep_seating BEFORE INSERT OR DELETE OR UPDATE OF table_id
    ON allocations FOR EACH ROW EXECUTE FUNCTION allocations_keep_seating();

-- The restaurant's party-size mix, for keeping combinations open (planner
-- placement.rs): bookings that got tables in the last 90 days, by party size.
-- bookings_start serves the range scan.
CREATE FUNCTION party_mix(p_restaurant uuid) RETURNS TABLE (party_size int, bookings bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.party_size, count(*)
      FROM autoassign.bookings b
     WHERE b.restaurant_id = p_restaurant
       AND b.start_at >= autoassign.clock_now() - interval '90 days'
       AND b.status IN ('confirmed', 'seated', 'completed')
     GROUP BY b.party_size
$$;

DROP FUNCTION autoassign_quote(uuid, jsonb, text, int);
DROP FUNCTION autoassign_confirm(uuid, jsonb, text);

-- pg_autoassign::api::quote::autoassign_quote
CREATE  FUNCTION "autoassign_quote"(
	"booking_id" uuid, /* Option < Uuid > */
	"strategy" jsonb DEFAULT '{}', /* Option < super :: jsonb_arg :: StrategyArg > */
	"source" TEXT DEFAULT 'api', /* Option < & str > */
	"hold_seconds" INT DEFAULT 0 /* Option < i32 > */
) RETURNS TABLE (
	"ok" bool,  /* bool */
	"reason" TEXT,  /* Option < String > */
	"reason_class" TEXT,  /* Option < String > */
	"table_ids" uuid[],  /* :: std :: option :: Option < Vec < Uuid > > */
	"zone_id" uuid,  /* Option < Uuid > */
	"seats" INT,  /* Option < i32 > */
	"score" bigint,  /* Option < i64 > */
	"alternates" jsonb,  /* Option < JsonB > */
	"duration_us" bigint,  /* i64 */
	"diagnostics" jsonb,  /* Option < JsonB > */
	"moves" jsonb,  /* JsonB */
	"alternatives" jsonb  /* Option < JsonB > */
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_quote_wrapper';

-- pg_autoassign::api::confirm::autoassign_confirm
CREATE  FUNCTION "autoassign_confirm"(
	"booking_id" uuid, /* Option < Uuid > */
	"strategy" jsonb DEFAULT '{}', /* Option < super :: jsonb_arg :: StrategyArg > */
	"source" TEXT DEFAULT 'api' /* Option < & str > */
) RETURNS TABLE (
	"ok" bool,  /* bool */
	"reason" TEXT,  /* Option < String > */
	"reason_class" TEXT,  /* Option < String > */
	"table_ids" uuid[],  /* :: std :: option :: Option < Vec < Uuid > > */
	"attempt" INT,  /* i32 */
	"duration_us" bigint,  /* i64 */
	"moves" jsonb,  /* JsonB */
	"alternatives" jsonb  /* Option < JsonB > */
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_confirm_wrapper';

-- pg_autoassign::api::seating::autoassign_alternatives
CREATE  FUNCTION "autoassign_alternatives"(
	"booking_id" uuid, /* Option < Uuid > */
	"within" interval DEFAULT '90 minutes', /* Option < Interval > */
	"step" interval DEFAULT '15 minutes', /* Option < Interval > */
	"strategy" jsonb DEFAULT '{}' /* Option < super :: jsonb_arg :: StrategyArg > */
) RETURNS TABLE (
	"start_at" timestamp with time zone,  /* TimestampWithTimeZone */
	"end_at" timestamp with time zone,  /* TimestampWithTimeZone */
	"offset_minutes" INT,  /* i32 */
	"shorter_by_minutes" INT,  /* i32 */
	"table_ids" uuid[],  /* Vec < Uuid > */
	"zone_id" uuid,  /* Uuid */
	"seats" INT,  /* i32 */
	"score" bigint  /* i64 */
)
STABLE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_alternatives_wrapper';

-- pg_autoassign::api::seating::autoassign_optimize
CREATE  FUNCTION "autoassign_optimize"(
	"restaurant_id" uuid, /* Option < Uuid > */
	"from" timestamp with time zone, /* Option < TimestampWithTimeZone > */
	"to" timestamp with time zone, /* Option < TimestampWithTimeZone > */
	"strategy" jsonb DEFAULT '{}', /* Option < super :: jsonb_arg :: StrategyArg > */
	"source" TEXT DEFAULT 'job' /* Option < & str > */
) RETURNS TABLE (
	"booking_id" uuid,  /* Uuid */
	"from_table_ids" uuid[],  /* Vec < Uuid > */
	"table_ids" uuid[],  /* Vec < Uuid > */
	"largest_free_before" bigint,  /* i64 */
	"largest_free_after" bigint  /* i64 */
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_optimize_wrapper';

-------------------------------------------------------------------------------------------
-- 4. The operator's tool pgaa (issue 14): its views and the stress run's scratch
--    restaurant (sql/ops.sql, as a fresh install runs it).

-- The SQL surface of the operator's tool pgaa (ops/, issue 14): two views it reads for the
-- service report and the timeline, and the scratch restaurant of `pgaa stress`.
-- Loaded after schema.sql and telemetry.sql with search_path = autoassign; every name is
-- qualified anyway.
--
-- A "service" is the bookings of one restaurant that start on one day in the restaurant's
-- own time zone (restaurants.timezone): service_day = (start_at AT TIME ZONE timezone)::date.

-------------------------------------------------------------------------------------------

-- What occupies each table: one row per allocation (kind 'allocation') and per live hold
-- (kind 'hold', expires_at > now()), with the booking it belongs to. starts_at/ends_at are
-- the bounds of `during` (the stay plus the turnover buffer); stay_ends_at is where the
-- stay itself ends (end_at, else start + default duration). tables_in_plan counts the
-- tables of the booking's plan of the same kind (> 1: a combination). Filter on
-- restaurant_id (and service_day) to read one service.
CREATE VIEW autoassign.service_timeline WITH (security_invoker = true) AS
SELECT a.restaurant_id,
       (b.start_at AT TIME ZONE r.timezone)::date AS service_day,
       'allocation'::text AS kind,
       a.table_id,
       a.booking_id,
       b.party_size,
       b.status,
       lower(a.during) AS starts_at,
       upper(a.during) AS ends_at,
       autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, 0) AS stay_ends_at,
       NULL::timestamptz AS expires_at,
       (SELECT count(*) FROM autoassign.allocations o
         WHERE o.restaurant_id = a.restaurant_id AND o.booking_id = a.booking_id) AS tables_in_plan
  FROM autoassign.allocations a
  JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
  JOIN autoassign.restaurants r ON r.id = a.restaurant_id
UNION ALL
SELECT h.restaurant_id,
       (b.start_at AT TIME ZONE r.timezone)::date,
       'hold',
       h.table_id,
       h.booking_id,
       b.party_size,
       b.status,
       lower(h.during),
       upper(h.during),
       autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, 0),
       h.expires_at,
       (SELECT count(*) FROM autoassign.holds o
         WHERE o.restaurant_id = h.restaurant_id AND o.booking_id = h.booking_id
           AND o.expires_at > now())
  FROM autoassign.holds h
  JOIN autoassign.bookings b ON b.restaurant_id = h.restaurant_id AND b.id = h.booking_id
  JOIN autoassign.restaurants r ON r.id = h.restaurant_id
 WHERE h.expires_at > now();

COMMENT ON VIEW autoassign.service_timeline IS
'What occupies each table: one row per allocation (kind allocation) and per live hold (kind hold), '
'with service_day (the booking''s local start date in the restaurant''s time zone), party_size, '
'status, starts_at/ends_at (the during range, turnover buffer included), stay_ends_at (the stay '
'without the buffer), expires_at (holds) and tables_in_plan (> 1: a combination). '
'Filter on restaurant_id and service_day. Read by pgaa timeline.';

-------------------------------------------------------------------------------------------

-- The planner calls about one service: every auto_assign.quote event of a booking of the
-- service, whenever it was made. Successful quotes without a reason count as 'ok', as in
-- reason_breakdown. Events are found through events_booking (booking_id, id).
CREATE VIEW autoassign.service_quotes WITH (security_invoker = true) AS
SELECT b.restaurant_id,
       (b.start_at AT TIME ZONE r.timezone)::date AS service_day,
       e.booking_id,
       e.at,
       e.source,
       e.success,
       coalesce(e.reason, CASE WHEN e.success IS FALSE THEN 'unknown' ELSE 'ok' END) AS reason,
       e.duration_us
  FROM autoassign.bookings b
  JOIN autoassign.restaurants r ON r.id = b.restaurant_id
  JOIN autoassign.events e ON e.booking_id = b.id AND e.event_type = 'auto_assign.quote';

COMMENT ON VIEW autoassign.service_quotes IS
'Every auto_assign.quote event about a booking, with the booking''s restaurant_id and '
'service_day (local start date): at, source, success, reason (''ok'' for successes), '
'duration_us. Filter on restaurant_id and service_day for one service. Read by pgaa report.';

-------------------------------------------------------------------------------------------

-- The scratch restaurant of `pgaa stress`: named 'pgaa-stress-<uuid>', zones of 10 tables
-- (capacities 2,2,4,4,4,6,6,8,8,10, each zone a chain of adjacent tables), and `bookings`
-- pending bookings on `day` between 17:00 and 22:00 UTC (15-minute slots), parties 1..8,
-- stays of 60..150 minutes. `tables` defaults to about one table per 3.5 bookings (at least
-- 10), which keeps the evening busy so the planner works for its answers. Returns the
-- restaurant id. Nothing else is touched.
CREATE FUNCTION autoassign.ops_stress_create(
    bookings int,
    tables int DEFAULT NULL,
    day date DEFAULT current_date + 30
) RETURNS uuid
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rid uuid;
    n_tables int;
    n_zones int;
    caps constant int[] := ARRAY[2, 2, 4, 4, 4, 6, 6, 8, 8, 10];
BEGIN
    IF bookings IS NULL OR bookings < 1 OR bookings > 100000 THEN
        RAISE EXCEPTION 'bookings must be between 1 and 100000: %', bookings
            USING ERRCODE = '22023', HINT = 'Pass the number of synthetic bookings, e.g. 500.';
    END IF;
    n_tables := coalesce(tables, greatest(10, ceil(bookings / 3.5)::int));
    IF n_tables < 1 OR n_tables > 5000 THEN
        RAISE EXCEPTION 'tables must be between 1 and 5000: %', n_tables
            USING ERRCODE = '22023', HINT = 'Omit it for about one table per 3.5 bookings.';
    END IF;
    IF day IS NULL THEN
        RAISE EXCEPTION 'day must not be NULL' USING ERRCODE = '22004';
    END IF;
    n_zones := ceil(n_tables / 10.0)::int;

    INSERT INTO autoassign.restaurants (name, timezone)
    VALUES ('pgaa-stress-' || gen_random_uuid(), 'UTC') RETURNING id INTO rid;

    INSERT INTO autoassign.zones (restaurant_id, name)
    SELECT rid, format('Zone %s', lpad(z::text, 3, '0')) FROM generate_series(1, n_zones) z;

    INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity, min_party)
    SELECT rid, zn.id, format('T%s', lpad(t::text, 4, '0')),
           caps[1 + (t - 1) % 10], greatest(1, caps[1 + (t - 1) % 10] / 2)
      FROM generate_series(1, n_tables) t
      JOIN autoassign.zones zn
        ON zn.restaurant_id = rid AND zn.name = format('Zone %s', lpad((1 + (t - 1) / 10)::text, 3, '0'));

    -- each zone's tables in a chain: T1-T2, T2-T3, ... within the zone
    INSERT INTO autoassign.table_adjacency (restaurant_id, table_a, table_b)
    SELECT rid, a.id, b.id
      FROM autoassign.tables a
      JOIN autoassign.tables b
        ON b.restaurant_id = a.restaurant_id AND b.zone_id = a.zone_id
       AND substr(b.name, 2)::int = substr(a.name, 2)::int + 1
     WHERE a.restaurant_id = rid;

    INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
    SELECT rid, p.party, p.start_at, p.start_at + make_interval(mins => p.stay)
      FROM (SELECT 1 + floor(random() * 8)::int AS party,
                   day::timestamp AT TIME ZONE 'UTC' + interval '17 hours'
                       + make_interval(mins => 15 * floor(random() * 21)::int) AS start_at,
                   60 + 15 * floor(random() * 7)::int AS stay
              FROM generate_series(1, bookings)) p;
    RETURN rid;
END
$$;

COMMENT ON FUNCTION autoassign.ops_stress_create(int, int, date) IS
'Creates the scratch restaurant of pgaa stress (name pgaa-stress-<uuid>, time zone UTC): '
'ceil(tables/10) zones of 10 chained tables (default about bookings/3.5 tables, at least 10) and '
'`bookings` pending bookings on `day` 17:00-22:00 UTC, parties 1..8, stays 60..150 minutes. '
'Returns its id. 22023 for bookings outside 1..100000 or tables outside 1..5000.';

-- Removes a scratch restaurant of pgaa stress and everything it owns (floor, bookings,
-- allocations, holds, outbox, queue through the foreign keys' cascades; its telemetry
-- events explicitly). Refuses any restaurant whose name does not start with
-- 'pgaa-stress-', so it can never remove a real restaurant. Runs with the caller's
-- rights: a restaurant the caller may not see counts as gone. Returns the number of
-- restaurants removed (0 if it was already gone).
CREATE FUNCTION autoassign.ops_stress_drop(restaurant_id uuid) RETURNS int
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    victim text;
BEGIN
    IF restaurant_id IS NULL THEN
        RAISE EXCEPTION 'restaurant_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT r.name INTO victim FROM autoassign.restaurants r WHERE r.id = ops_stress_drop.restaurant_id;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF victim NOT LIKE 'pgaa-stress-%' THEN
        RAISE EXCEPTION 'restaurant % (%) is not a pgaa stress restaurant', restaurant_id, victim
            USING ERRCODE = '42501',
                  HINT = 'ops_stress_drop only removes restaurants named pgaa-stress-*.';
    END IF;
    -- its telemetry too, where the caller may delete events (the owner, a superuser);
    -- otherwise those rows stay until autoassign_prune_events removes them
    BEGIN
        DELETE FROM autoassign.events e WHERE e.restaurant_id = ops_stress_drop.restaurant_id;
    EXCEPTION WHEN insufficient_privilege THEN
        NULL;
    END;
    DELETE FROM autoassign.restaurants r WHERE r.id = ops_stress_drop.restaurant_id;
    RETURN 1;
END
$$;

COMMENT ON FUNCTION autoassign.ops_stress_drop(uuid) IS
'Removes a pgaa stress scratch restaurant (name pgaa-stress-*) with its floor, bookings, '
'allocations, holds, outbox rows and telemetry events; returns 1, or 0 if it is already gone. '
'Any other restaurant is refused with 42501.';

-------------------------------------------------------------------------------------------
-- 5. Security, as a fresh install runs it: last, so it covers every function above.

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
--      instead), so nothing planted in another schema ever runs inside ours;
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
-- 3. Grants. PUBLIC gets nothing; then each role what its job needs.

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT d.objid::regprocedure FROM pg_catalog.pg_depend d
              WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
                AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
                AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e' LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END $$;

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
    autoassign_quote(uuid, jsonb, text, int),
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
-- 4. SECURITY DEFINER: the write paths, the tenant lookups, and every trigger function
--    (a trigger fired by the API's UPDATE writes allocations, outbox and queue rows the
--    API role may not write itself). Each checks the caller's restaurant itself.

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
           AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
           AND (p.prorettype = 'pg_catalog.trigger'::regtype
                OR p.proname IN ('autoassign_quote', 'autoassign_confirm', 'autoassign_cancel',
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
                                 'party_mix'))
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER', f);
    END LOOP;
END $$;

-------------------------------------------------------------------------------------------
-- 5. search_path. Every function runs with search_path = pg_catalog, pg_temp: built-in
--    names resolve in pg_catalog, ours are written autoassign.x, and nothing a user can
--    create elsewhere (public, pg_temp) is ever found first. The inlinable SQL helpers
--    (stay_end, stay_range, booking_movable) cannot carry a SET clause without losing
--    inlining in hot queries, so every name in their bodies is schema-qualified instead
--    (sql/schema.sql, sql/seating.sql); clock_now is a C function that resolves no name;
--    pgrx-tests/sql/security.sql plants shadows to prove both.

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
           AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
           AND p.proname NOT IN ('stay_end', 'stay_range', 'clock_now', 'booking_movable')
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
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
