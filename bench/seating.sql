-- Issue 13 benchmark: one seeded evening on one floor, every booking confirmed as it
-- arrives (as the booking API does), in its own transaction. Prints one line: covers
-- seated, refusals, and confirm duration_us percentiles (server-side, from
-- autoassign_confirm's own duration_us), split by whether a re-assignment search ran.
-- Works on 0.2.0 (no moves column: it only reads ok, reason, duration_us).
--
--   psql -v seed=1 -v demand=1.0 -v kind=issue30 -v label=0.3.0 -f bench/seating.sql
--
-- kind: issue30 (30 tables in 4 zones, half without a neighbour), bistro9 (9 tables),
-- big120 (120 tables in 4 zones of 30, half chained). demand: requested seat-hours over
-- the floor's seat-hours 17:00-23:00.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS seatbench;
CREATE TABLE IF NOT EXISTS seatbench.results (
    run text, booking_id uuid, ord int, party int, ok bool, reason text, duration_us bigint);
CREATE TABLE IF NOT EXISTS seatbench.runs (run text PRIMARY KEY, restaurant_id uuid);

SELECT :'label' || '/' || :'kind' || '/' || :'demand' || '/' || :'seed' AS run \gset

-- the floor: deterministic per kind
CREATE OR REPLACE FUNCTION seatbench.floor(p_run text, p_kind text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    rid uuid;
    zid uuid;
    zones int := CASE p_kind WHEN 'bistro9' THEN 1 WHEN 'issue30' THEN 4 ELSE 4 END;
    per int;
    caps int[] := ARRAY[2, 4, 2, 2, 4, 6, 2, 4, 2, 8];
    prev uuid;
    tid uuid;
    n int := 0;
BEGIN
    INSERT INTO autoassign.restaurants (name) VALUES (p_run) RETURNING id INTO rid;
    FOR z IN 1..zones LOOP
        INSERT INTO autoassign.zones (restaurant_id, name) VALUES (rid, 'z' || z) RETURNING id INTO zid;
        per := CASE p_kind WHEN 'bistro9' THEN 9 WHEN 'issue30' THEN CASE WHEN z <= 2 THEN 8 ELSE 7 END ELSE 30 END;
        prev := NULL;
        FOR i IN 1..per LOOP
            n := n + 1;
            INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity)
            VALUES (rid, zid, 'z' || z || 't' || i, caps[1 + (n * 7 + i) % array_length(caps, 1)])
            RETURNING id INTO tid;
            -- odd tables form a chain in their zone; even ones have no neighbour
            IF i % 2 = 1 THEN
                IF prev IS NOT NULL THEN
                    INSERT INTO autoassign.table_adjacency VALUES (rid, prev, tid);
                END IF;
                prev := tid;
            END IF;
        END LOOP;
    END LOOP;
    RETURN rid;
END $$;

SELECT seatbench.floor(:'run', :'kind') AS rid \gset
INSERT INTO seatbench.runs VALUES (:'run', :'rid');

-- the evening: parties from a casual-dining mix, starts on a 15-minute grid
-- 17:00-21:30, stays of 90 or 120 minutes, until the requested seat-hours reach
-- demand x the floor's seat-hours 17:00-23:00. Seeded: the same seed gives the same
-- bookings on any release.
SELECT setseed(:seed::float8 / 1000);
CREATE TEMP TABLE evening AS
WITH RECURSIVE seats AS (
    SELECT sum(capacity) * 6.0 AS seat_hours FROM autoassign.tables WHERE restaurant_id = :'rid'),
draws AS (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4
      FROM generate_series(1, 5000) g),
parties AS (
    SELECT g, r4,
           CASE WHEN r1 < 0.04 THEN 1 WHEN r1 < 0.48 THEN 2 WHEN r1 < 0.60 THEN 3
                WHEN r1 < 0.82 THEN 4 WHEN r1 < 0.88 THEN 5 WHEN r1 < 0.94 THEN 6
                WHEN r1 < 0.97 THEN 8 ELSE 10 END AS party,
           (floor(r2 * 19))::int * 15 AS start_min,
           CASE WHEN r3 < 0.6 THEN 90 ELSE 120 END AS stay
      FROM draws),
cum AS (
    SELECT p.*, sum(p.party * p.stay / 60.0) OVER (ORDER BY g) AS want FROM parties p)
SELECT c.g, c.party, c.start_min, c.stay, c.r4
  FROM cum c, seats s
 WHERE c.want <= :demand::float8 * s.seat_hours;

INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
SELECT :'rid', party, '2030-06-01 17:00+00'::timestamptz + make_interval(mins => start_min),
       '2030-06-01 17:00+00'::timestamptz + make_interval(mins => start_min + stay)
  FROM evening ORDER BY g;
-- arrival order: the booking id order is random, so confirm in creation order of a
-- seeded shuffle
CREATE TEMP TABLE arrivals AS
SELECT b.id, row_number() OVER (ORDER BY e.r4, e.g) AS ord, b.party_size
  FROM autoassign.bookings b
  JOIN evening e ON e.party = b.party_size
   AND b.start_at = '2030-06-01 17:00+00'::timestamptz + make_interval(mins => e.start_min)
   AND b.end_at = b.start_at + make_interval(mins => e.stay)
 WHERE b.restaurant_id = :'rid';
-- duplicates (same party, start and stay) joined twice: keep one row per booking
DELETE FROM arrivals a USING arrivals b WHERE a.id = b.id AND a.ord > b.ord;

SELECT format('INSERT INTO seatbench.results SELECT %L, %L, %s, %s, c.ok, c.reason, c.duration_us
                 FROM autoassign.autoassign_confirm(%L) c', :'run', id, ord, party_size, id)
  FROM arrivals ORDER BY ord \gexec

-- a re-assignment search ran when no free plan existed: the confirm moved bookings
-- (0.3.0 records them in the last result) or refused for capacity (reassign on)
SELECT format(
    '%s %s demand %s seed %s: %s bookings, %s covers requested, %s covers seated (%s bookings), refused %s (no_fit %s, no_capacity %s, other %s), moves %s; '
    'occupancy 18-21h %s%%; confirm duration_us p50 %s p99 %s max %s; with a re-assignment search n %s p50 %s p99 %s; without n %s p99 %s',
    :'label', :'kind', :'demand', :'seed', count(*), sum(r.party), sum(r.party) FILTER (WHERE r.ok),
    count(*) FILTER (WHERE r.ok), count(*) FILTER (WHERE NOT r.ok),
    count(*) FILTER (WHERE r.reason = 'no_fit'), count(*) FILTER (WHERE r.reason = 'no_capacity'),
    count(*) FILTER (WHERE NOT r.ok AND r.reason NOT IN ('no_fit', 'no_capacity')),
    coalesce(sum(jsonb_array_length(b.auto_assign_last_result->'moves')), 0),
    (SELECT round(100.0 * sum(extract(epoch FROM upper(a.during * tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00')))
                          - extract(epoch FROM lower(a.during * tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00'))))
                  / (3 * 3600 * (SELECT count(*) FROM autoassign.tables t WHERE t.restaurant_id = :'rid')))
       FROM autoassign.allocations a
      WHERE a.restaurant_id = :'rid' AND a.during && tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00')),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY r.duration_us),
    percentile_disc(0.99) WITHIN GROUP (ORDER BY r.duration_us), max(r.duration_us),
    count(*) FILTER (WHERE b.auto_assign_last_result ? 'moves' OR r.reason IN ('no_fit', 'no_capacity')),
    percentile_disc(0.5) WITHIN GROUP (ORDER BY r.duration_us)
        FILTER (WHERE b.auto_assign_last_result ? 'moves' OR r.reason IN ('no_fit', 'no_capacity')),
    percentile_disc(0.99) WITHIN GROUP (ORDER BY r.duration_us)
        FILTER (WHERE b.auto_assign_last_result ? 'moves' OR r.reason IN ('no_fit', 'no_capacity')),
    count(*) FILTER (WHERE NOT (b.auto_assign_last_result ? 'moves' OR coalesce(r.reason IN ('no_fit', 'no_capacity'), false))),
    percentile_disc(0.99) WITHIN GROUP (ORDER BY r.duration_us)
        FILTER (WHERE NOT (b.auto_assign_last_result ? 'moves' OR coalesce(r.reason IN ('no_fit', 'no_capacity'), false))))
  AS summary
  FROM seatbench.results r
  JOIN autoassign.bookings b ON b.id = r.booking_id
 WHERE r.run = :'run' \gset
\echo :summary
