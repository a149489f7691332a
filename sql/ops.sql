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
