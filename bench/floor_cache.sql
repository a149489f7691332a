-- The floor cache at scale (issue #11, item 6): one pooled connection quoting 2,000
-- restaurants round-robin. Per-call server-side time (clock_timestamp around each
-- quote, telemetry off) and the backend's cache hit rate, with the cache smaller than
-- the restaurants (the default, 256) and sized for them (4,096); then the single
-- restaurant figure to compare with.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DELETE FROM autoassign.bookings WHERE restaurant_id IN (SELECT id FROM autoassign.restaurants WHERE name LIKE 'Cache Bench %');
DELETE FROM autoassign.restaurants WHERE name LIKE 'Cache Bench %';
DO $$
DECLARE rid uuid; z uuid; prev uuid; t uuid;
BEGIN
    FOR r IN 1..2000 LOOP
        INSERT INTO autoassign.restaurants (name) VALUES ('Cache Bench ' || r) RETURNING id INTO rid;
        INSERT INTO autoassign.zones (restaurant_id, name) VALUES (rid, 'Main') RETURNING id INTO z;
        prev := NULL;
        FOR ti IN 1..12 LOOP
            INSERT INTO autoassign.tables (restaurant_id, zone_id, name, capacity)
            VALUES (rid, z, 'T' || ti, 2 + 2 * (ti % 3)) RETURNING id INTO t;
            IF prev IS NOT NULL THEN
                INSERT INTO autoassign.table_adjacency VALUES (rid, prev, t);
            END IF;
            prev := t;
        END LOOP;
        INSERT INTO autoassign.bookings (restaurant_id, party_size, start_at)
        SELECT rid, 2 + g % 4, '2032-04-01 18:00+00'::timestamptz + make_interval(mins => 30 * g)
          FROM generate_series(0, 3) g;
    END LOOP;
END $$;
ANALYZE autoassign.restaurants, autoassign.tables, autoassign.zones, autoassign.table_adjacency, autoassign.bookings;

CREATE OR REPLACE FUNCTION pg_temp.round_robin(rounds int, only_one bool)
RETURNS TABLE (p50_us int, p99_us int, quotes int)
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; times int[] := '{}'; b uuid;
BEGIN
    FOR i IN 1..rounds LOOP
        FOR b IN SELECT DISTINCT ON (bk.restaurant_id) bk.id
                   FROM autoassign.bookings bk JOIN autoassign.restaurants r ON r.id = bk.restaurant_id
                  WHERE r.name LIKE 'Cache Bench %' AND (NOT only_one OR r.name = 'Cache Bench 1')
                  ORDER BY bk.restaurant_id, bk.start_at LOOP
            t0 := clock_timestamp();
            PERFORM * FROM autoassign.autoassign_quote(b, source => 'bench');
            times := times || (extract(epoch FROM clock_timestamp() - t0) * 1000000)::int;
        END LOOP;
    END LOOP;
    RETURN QUERY SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x),
                        percentile_disc(0.99) WITHIN GROUP (ORDER BY x), count(*)::int FROM unnest(times) x;
END $$;
SET autoassign.telemetry = off;
CREATE TEMP TABLE cache_result (setting text, p50_us int, p99_us int, quotes int, hit_rate numeric);
CREATE TEMP TABLE cache_before AS SELECT * FROM autoassign.autoassign_floor_cache_stats();

SET autoassign.floor_cache_size = 256;
SELECT quotes AS warm_up FROM pg_temp.round_robin(1, false);
TRUNCATE cache_before; INSERT INTO cache_before SELECT * FROM autoassign.autoassign_floor_cache_stats();
INSERT INTO cache_result SELECT '2,000 restaurants, floor_cache_size 256', r.*,
       round((s.hits - b.hits)::numeric / nullif(s.hits - b.hits + s.misses - b.misses, 0), 3)
  FROM pg_temp.round_robin(2, false) r, autoassign.autoassign_floor_cache_stats() s, cache_before b;

SET autoassign.floor_cache_size = 4096;
SELECT quotes AS warm_up FROM pg_temp.round_robin(1, false);
TRUNCATE cache_before; INSERT INTO cache_before SELECT * FROM autoassign.autoassign_floor_cache_stats();
INSERT INTO cache_result SELECT '2,000 restaurants, floor_cache_size 4096', r.*,
       round((s.hits - b.hits)::numeric / nullif(s.hits - b.hits + s.misses - b.misses, 0), 3)
  FROM pg_temp.round_robin(2, false) r, autoassign.autoassign_floor_cache_stats() s, cache_before b;

TRUNCATE cache_before; INSERT INTO cache_before SELECT * FROM autoassign.autoassign_floor_cache_stats();
INSERT INTO cache_result SELECT 'one restaurant, same floor', r.*,
       round((s.hits - b.hits)::numeric / nullif(s.hits - b.hits + s.misses - b.misses, 0), 3)
  FROM pg_temp.round_robin(2000, true) r, autoassign.autoassign_floor_cache_stats() s, cache_before b;
SELECT * FROM cache_result;
SELECT round(a.p50_us::numeric / o.p50_us - 1, 3) AS sized_p50_over_single,
       CASE WHEN a.p50_us <= 1.2 * o.p50_us THEN 'met' ELSE 'missed' END AS target_within_20pct
  FROM cache_result a, cache_result o
 WHERE a.setting LIKE '%4096' AND o.setting LIKE 'one restaurant%';
DELETE FROM autoassign.bookings WHERE restaurant_id IN (SELECT id FROM autoassign.restaurants WHERE name LIKE 'Cache Bench %');
DELETE FROM autoassign.restaurants WHERE name LIKE 'Cache Bench %';
