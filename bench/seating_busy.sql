-- Issue 13 speed target: confirm latency when re-assignment runs, on a 120-table floor
-- (big120 of bench/seating.sql: 4 zones of 30 tables, odd tables chained) brought to
-- 90% busy (table-time allocated in the 18-21h peak), and the same requests with
-- re-assignment off as the control. Prints one line per series.
--
--   psql -v seed=1 -v n=300 -v target=0.90 -v label=main -f bench/seating_busy.sql
--
-- 1. Fill: a seeded casual-dining evening at 110% demand, each booking confirmed by
--    autoassign_confirm in its own transaction; then, while the peak is under
--    `target`, one filler booking at a time into a random free gap of a table that
--    overlaps the peak (stay up to 120 minutes, party 1..capacity), again confirmed by
--    autoassign_confirm in its own transaction. Bookings left unseated are deleted, so
--    no pending booking feeds the lookahead.
-- 2. Requests: up to `n` seeded requests in three series (fit, peak, gap: below).
--    Each request is inserted and confirmed in its own transaction, which is
--    then rolled back, so every request sees the same 90%-busy floor; each is confirmed
--    twice, default strategy and {"reassign": false}, in alternating order.
--    duration_us is autoassign_confirm's own (the whole call: planning, the search,
--    its writes and events, and on a refusal the alternatives).
-- Classes (default strategy): moved = the confirm moved bookings; refused = no_fit or
-- no_capacity after the search; free = confirmed without moves (no search).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\if :{?n}
\else
\set n 300
\endif
\if :{?target}
\else
\set target 0.90
\endif
CREATE SCHEMA IF NOT EXISTS seatbusy;
CREATE TABLE IF NOT EXISTS seatbusy.results (
    run text, ord int, series text, party int, start_at timestamptz, end_at timestamptz, strategy text,
    ok bool, reason text, moves int, alts int, duration_us bigint);

SELECT :'label' || '/busy/' || :'seed' AS run \gset
DELETE FROM seatbusy.results WHERE run = :'run';

CREATE OR REPLACE FUNCTION seatbusy.floor(p_run text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    rid uuid;
    zid uuid;
    caps int[] := ARRAY[2, 4, 2, 2, 4, 6, 2, 4, 2, 8];
    prev uuid;
    tid uuid;
    n int := 0;
BEGIN
    INSERT INTO autoassign.restaurants (name) VALUES (p_run) RETURNING id INTO rid;
    FOR z IN 1..4 LOOP
        INSERT INTO autoassign.zones (restaurant_id, name) VALUES (rid, 'z' || z) RETURNING id INTO zid;
        prev := NULL;
        FOR i IN 1..30 LOOP
            n := n + 1;
            INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity)
            VALUES (rid, zid, 'z' || z || 't' || i, caps[1 + (n * 7 + i) % array_length(caps, 1)])
            RETURNING id INTO tid;
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

-- table-time allocated in the 18-21h peak over the floor's table-time there
CREATE OR REPLACE FUNCTION seatbusy.occupancy(p_rid uuid) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(extract(epoch FROM upper(a.during * p.w)) - extract(epoch FROM lower(a.during * p.w))), 0)
           / (3 * 3600 * (SELECT count(*) FROM autoassign.tables t WHERE t.restaurant_id = p_rid))
      FROM (SELECT tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00') AS w) p
      LEFT JOIN autoassign.allocations a ON a.restaurant_id = p_rid AND a.during && p.w
$$;

-- filler bookings into free gaps that overlap the peak until occupancy >= target
CREATE OR REPLACE PROCEDURE seatbusy.fill(p_rid uuid, p_target numeric)
LANGUAGE plpgsql AS $$
DECLARE
    g record;
    r record;
    bid uuid;
    ok bool;
    tries int := 0;
    p_run text := (SELECT name FROM autoassign.restaurants WHERE id = p_rid);
BEGIN
    WHILE seatbusy.occupancy(p_rid) < p_target AND tries < 2000 LOOP
        tries := tries + 1;
        SELECT 1 + floor(random() * t.capacity)::int AS party, lower(f.gap) AS lo, upper(f.gap) AS hi INTO g
          FROM autoassign.tables t
          CROSS JOIN LATERAL (
              SELECT unnest(tstzmultirange(tstzrange('2030-06-01 17:00+00', '2030-06-01 23:00+00'))
                            - coalesce(range_agg(a.during), '{}'::tstzmultirange)) AS gap
                FROM autoassign.allocations a
               WHERE a.restaurant_id = p_rid AND a.table_id = t.id) f
         WHERE t.restaurant_id = p_rid
           AND f.gap && tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00')
           AND upper(f.gap) - lower(f.gap) >= interval '35 minutes'
         ORDER BY random() LIMIT 1;
        EXIT WHEN NOT FOUND;
        -- stay [lo, lo + up to 120 min), its allocation ends 5 minutes (turnover) later
        INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
        VALUES (p_rid, g.party, g.lo,
                least(g.hi - interval '5 minutes', g.lo + interval '120 minutes'))
        RETURNING id INTO bid;
        COMMIT;
        SELECT c.ok, c.reason, c.duration_us, jsonb_array_length(c.moves) AS moves,
               coalesce(jsonb_array_length(c.alternatives), 0) AS alts
          INTO r FROM autoassign.autoassign_confirm(bid) c;
        COMMIT;
        ok := r.ok;
        INSERT INTO seatbusy.results VALUES (p_run, -tries, 'fill', g.party, g.lo, NULL, '{}',
            r.ok, r.reason, r.moves, r.alts, r.duration_us);
        COMMIT;
        IF NOT ok THEN
            DELETE FROM autoassign.bookings WHERE id = bid;
            COMMIT;
        END IF;
    END LOOP;
END $$;

-- the measured requests: each inserted and confirmed in a transaction rolled back after
CREATE OR REPLACE PROCEDURE seatbusy.requests(p_rid uuid, p_run text)
LANGUAGE plpgsql AS $$
DECLARE
    q record;
    bid uuid;
    r record;
    strat text;
    res seatbusy.results;
BEGIN
    FOR q IN SELECT * FROM seatbusy.reqs ORDER BY ord LOOP
        FOREACH strat IN ARRAY CASE WHEN q.ord % 2 = 0 THEN ARRAY['{}', '{"reassign": false}']
                                    ELSE ARRAY['{"reassign": false}', '{}'] END LOOP
            INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
            VALUES (p_rid, q.party, q.start_at, q.end_at)
            RETURNING id INTO bid;
            SELECT c.ok, c.reason, c.duration_us, jsonb_array_length(c.moves) AS moves,
                   coalesce(jsonb_array_length(c.alternatives), 0) AS alts
              INTO r FROM autoassign.autoassign_confirm(bid, strat::jsonb) c;
            ROLLBACK;
            INSERT INTO seatbusy.results VALUES (p_run, q.ord, q.series, q.party, q.start_at,
                q.end_at, strat, r.ok, r.reason, r.moves, r.alts, r.duration_us);
            COMMIT;
        END LOOP;
    END LOOP;
END $$;

SELECT seatbusy.floor(:'run') AS rid \gset

-- 1a. a seeded evening at 110% demand, confirmed as it arrives (bench/seating.sql's mix)
SELECT setseed(:seed::float8 / 1000) \g /dev/null
CREATE TEMP TABLE evening AS
WITH seats AS (
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
 WHERE c.want <= 1.1 * s.seat_hours;
CREATE TEMP TABLE arrivals (id uuid, ord int);
WITH ins AS (
    INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at, end_at)
    SELECT :'rid', party, '2030-06-01 17:00+00'::timestamptz + make_interval(mins => start_min),
           '2030-06-01 17:00+00'::timestamptz + make_interval(mins => start_min + stay)
      FROM evening ORDER BY g
    RETURNING id)
INSERT INTO arrivals SELECT id, row_number() OVER (ORDER BY random()) FROM ins;
\o /dev/null
SELECT format('INSERT INTO seatbusy.results SELECT %L, %s, %L, NULL, NULL, NULL, %L, c.ok, c.reason,
                       jsonb_array_length(c.moves), coalesce(jsonb_array_length(c.alternatives), 0), c.duration_us
                  FROM autoassign.autoassign_confirm(%L) c', :'run', -100000 + ord, 'evening', '{}', id)
  FROM arrivals ORDER BY ord \gexec
\o
DELETE FROM autoassign.bookings WHERE restaurant_id = :'rid' AND status = 'pending';
SELECT round(100 * seatbusy.occupancy(:'rid'), 1) AS occ_evening \gset

-- 1b. fillers up to the target
CALL seatbusy.fill(:'rid', :target);
DELETE FROM autoassign.bookings WHERE restaurant_id = :'rid' AND status = 'pending';
SELECT round(100 * seatbusy.occupancy(:'rid'), 1) AS occ,
       (SELECT count(*) FROM autoassign.bookings WHERE restaurant_id = :'rid' AND status = 'confirmed') AS confirmed
\gset
VACUUM ANALYZE autoassign.allocations;
VACUUM ANALYZE autoassign.bookings;

-- 2. the requests (seeded), three series:
--   fit   requests that a re-assignment can seat: the stay of a confirmed booking that
--         sits alone on a table larger than its party, for a party of that table's
--         size, when another table that seats the booking is free for its stay and no
--         free table seats the request alone;
--   peak  the casual mix and large parties (5-10) at peak starts (18:00-20:00);
--   gap   a free gap overlapping the peak (up to 120 minutes), party 1..capacity.
-- Each has :n / 3 requests at most (fit and gap: as many as the floor offers).
DROP TABLE IF EXISTS seatbusy.reqs;
CREATE TABLE seatbusy.reqs (ord int, series text, party int, start_at timestamptz, end_at timestamptz);
INSERT INTO seatbusy.reqs
SELECT 0, 'fit', f.capacity, f.start_at, f.end_at
  FROM (SELECT DISTINCT ON (b.id) b.id, t.capacity, b.start_at, b.end_at
          FROM autoassign.bookings b
          JOIN autoassign.allocations a ON a.restaurant_id = b.restaurant_id AND a.booking_id = b.id
          JOIN autoassign.tables t ON t.id = a.table_id
         WHERE b.restaurant_id = :'rid' AND b.status = 'confirmed' AND b.party_size < t.capacity
           AND a.during && tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00')
           AND (SELECT count(*) FROM autoassign.allocations a1 WHERE a1.booking_id = b.id) = 1
           AND EXISTS (
               SELECT 1 FROM autoassign.tables t2
                WHERE t2.restaurant_id = :'rid' AND t2.id <> t.id AND t2.capacity >= b.party_size
                  AND NOT EXISTS (SELECT 1 FROM autoassign.allocations a2
                                   WHERE a2.restaurant_id = :'rid' AND a2.table_id = t2.id
                                     AND a2.during && a.during))
           -- and no free table seats the request alone
           AND NOT EXISTS (
               SELECT 1 FROM autoassign.tables t3
                WHERE t3.restaurant_id = :'rid' AND t3.capacity >= t.capacity
                  AND NOT EXISTS (SELECT 1 FROM autoassign.allocations a3
                                   WHERE a3.restaurant_id = :'rid' AND a3.table_id = t3.id
                                     AND a3.during && a.during))
         ORDER BY b.id) f
 ORDER BY random() LIMIT :n / 3;
INSERT INTO seatbusy.reqs
SELECT 0, 'peak',
       CASE WHEN g % 2 = 0 THEN
           CASE WHEN r1 < 0.04 THEN 1 WHEN r1 < 0.48 THEN 2 WHEN r1 < 0.60 THEN 3
                WHEN r1 < 0.82 THEN 4 WHEN r1 < 0.88 THEN 5 WHEN r1 < 0.94 THEN 6
                WHEN r1 < 0.97 THEN 8 ELSE 10 END
       ELSE (ARRAY[5, 6, 6, 8, 8, 10])[1 + floor(r1 * 6)::int] END,
       '2030-06-01 18:00+00'::timestamptz + make_interval(mins => (floor(r2 * 9))::int * 15),
       '2030-06-01 18:00+00'::timestamptz + make_interval(mins => (floor(r2 * 9))::int * 15
                                                          + CASE WHEN r3 < 0.6 THEN 90 ELSE 120 END)
  FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3
          FROM generate_series(1, :n / 3) g) d;
INSERT INTO seatbusy.reqs
SELECT 0, 'gap', 1 + floor(random() * f.capacity)::int, lower(f.gap),
       least(upper(f.gap) - interval '5 minutes', lower(f.gap) + interval '120 minutes')
  FROM (SELECT t.capacity, gap
          FROM autoassign.tables t
          CROSS JOIN LATERAL (
              SELECT unnest(tstzmultirange(tstzrange('2030-06-01 17:00+00', '2030-06-01 23:00+00'))
                            - coalesce(range_agg(a.during), '{}'::tstzmultirange)) AS gap
                FROM autoassign.allocations a
               WHERE a.restaurant_id = :'rid' AND a.table_id = t.id) g
         WHERE t.restaurant_id = :'rid'
           AND g.gap && tstzrange('2030-06-01 18:00+00', '2030-06-01 21:00+00')
           AND upper(g.gap) - lower(g.gap) >= interval '35 minutes'
         ORDER BY t.name, lower(gap)) f
 ORDER BY random() LIMIT :n / 3;
-- interleave the series
UPDATE seatbusy.reqs r SET ord = o.ord
  FROM (SELECT ctid, row_number() OVER (ORDER BY random()) AS ord FROM seatbusy.reqs) o
 WHERE r.ctid = o.ctid;
SELECT string_agg(series || ' ' || c, ', ' ORDER BY series) AS series_n
  FROM (SELECT series, count(*) AS c FROM seatbusy.reqs GROUP BY series) s \gset
CALL seatbusy.requests(:'rid', :'run');

\echo == :run: 120 tables, occupancy 18-21h :occ% (:confirmed confirmed bookings; :occ_evening% after the evening alone); requests :series_n; load before :load
SELECT format('%-58s n %4s  p50 %5s  p95 %5s  p99 %5s  max %5s us',
              s.phase || ', ' || s.strategy || ': ' || s.class, count(*),
              percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_us),
              max(duration_us)) AS line
  FROM (SELECT r.*,
               CASE WHEN r.strategy = '{}' THEN 'default' ELSE 'reassign off' END AS strategy_name,
               CASE r.series WHEN 'evening' THEN 'evening to ' || :'occ_evening' || '%'
                             WHEN 'fill' THEN 'filling ' || :'occ_evening' || '-' || :'occ' || '%'
                             ELSE 'requests at ' || :'occ' || '%' END AS phase,
               d.cls AS class
          FROM seatbusy.results r
          JOIN (SELECT ord, CASE WHEN moves > 0 THEN 'moved (re-assignment ran)'
                                 WHEN reason IN ('no_fit', 'no_capacity') THEN 'refused (re-assignment ran)'
                                 WHEN ok THEN 'free plan (no re-assignment)'
                                 ELSE 'other: ' || reason END AS cls
                  FROM seatbusy.results WHERE run = :'run' AND strategy = '{}') d USING (ord)
         WHERE r.run = :'run') s0
  CROSS JOIN LATERAL (SELECT s0.strategy_name AS strategy, s0.class AS class, s0.phase AS phase,
                             s0.ord > -100000 AS later, s0.ord > 0 AS req) s
 GROUP BY s.later, s.req, s.phase, s.strategy, s.class
 ORDER BY s.later, s.req, s.phase, s.strategy, s.class \g (format=unaligned tuples_only)
SELECT format('%-58s n %4s  p50 %5s  p95 %5s  p99 %5s  max %5s us', 'requests at ' || :'occ' || '%, default: re-assignment ran (moved or refused)', count(*),
              percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_us),
              percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_us), max(duration_us))
  FROM seatbusy.results
 WHERE run = :'run' AND ord > 0 AND strategy = '{}' AND (moves > 0 OR reason IN ('no_fit', 'no_capacity'))
\g (format=unaligned tuples_only)
