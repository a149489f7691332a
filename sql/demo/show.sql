-- The demo run (scripts/demo.sh): a fresh extension, the White Horse floor, a seeded
-- dinner service auto-assigned through autoassign_confirm, then what a DBA would look at.
\set QUIET on
\pset footer off
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS pg_autoassign CASCADE;
CREATE EXTENSION pg_autoassign CASCADE;
SELECT autoassign.autoassign_demo_load() AS rid \gset
SET timezone = 'Europe/London';

\echo
\echo '== The White Horse: floor per zone'
SELECT z.name AS zone,
       count(*) AS tables,
       sum(t.capacity) AS seats,
       string_agg(t.capacity::text, ' ' ORDER BY t.name) AS capacities,
       (SELECT count(*) FROM autoassign.table_adjacency a
          JOIN autoassign.tables ta ON ta.id = a.table_a
         WHERE ta.zone_id = z.id) AS adjacent_pairs
  FROM autoassign.zones z JOIN autoassign.tables t ON t.zone_id = z.id
 WHERE z.restaurant_id = :'rid'
 GROUP BY z.id, z.name ORDER BY seats DESC;

\echo
\echo '== Demand before assignment: seats booked vs free, every 30 minutes'
SELECT to_char(slot, 'HH24:MI') AS time,
       (SELECT coalesce(sum(b.party_size), 0) FROM autoassign.bookings b
         WHERE b.restaurant_id = :'rid' AND b.start_at <= slot AND b.end_at > slot) AS covers_booked,
       (SELECT sum(free_seats) FROM autoassign.autoassign_free_capacity(:'rid', slot, slot + interval '30 minutes')) AS free_seats
  FROM generate_series((SELECT min(start_at) FROM autoassign.bookings WHERE restaurant_id = :'rid'),
                       (SELECT max(end_at) FROM autoassign.bookings WHERE restaurant_id = :'rid'),
                       interval '30 minutes') AS slot;

\echo
\echo '== Auto-assigning the service through autoassign_confirm, in booking order'
CREATE TEMP TABLE demo_results AS
SELECT b.id, b.party_size, b.start_at, c.*
  FROM autoassign.bookings b, LATERAL (SELECT NULL::bool AS ok, NULL::text AS reason, NULL::text AS reason_class,
                                              NULL::uuid[] AS table_ids, NULL::int AS attempt, NULL::bigint AS duration_us,
                                              NULL::int AS moves) c
 WHERE false;
DO $$
DECLARE
    b record;
BEGIN
    FOR b IN SELECT * FROM autoassign.bookings ORDER BY start_at, party_size DESC, id LOOP
        INSERT INTO demo_results
        SELECT b.id, b.party_size, b.start_at, c.ok, c.reason, c.reason_class, c.table_ids,
               c.attempt, c.duration_us, coalesce(jsonb_array_length(c.moves), 0)
          FROM autoassign.autoassign_confirm(b.id, source => 'inline') c;
    END LOOP;
END $$;

SELECT r.party_size AS party,
       to_char(r.start_at, 'HH24:MI') AS time,
       coalesce((SELECT string_agg(t.name, ' + ' ORDER BY t.name) FROM autoassign.tables t
                  WHERE t.id = ANY (r.table_ids)), '-') AS tables,
       coalesce((SELECT DISTINCT z.name FROM autoassign.tables t JOIN autoassign.zones z ON z.id = t.zone_id
                  WHERE t.id = ANY (r.table_ids)), '-') AS zone,
       coalesce(r.reason, 'confirmed') AS result,
       nullif(r.moves, 0) AS moved_others,
       r.duration_us
  FROM demo_results r ORDER BY r.start_at, r.party_size DESC;

\echo
\echo '== Free capacity after assignment, every 30 minutes'
SELECT to_char(slot, 'HH24:MI') AS time,
       sum(f.free_tables) AS free_tables, sum(f.free_seats) AS free_seats, max(f.largest_free_table) AS largest_free
  FROM generate_series((SELECT min(start_at) FROM autoassign.bookings WHERE restaurant_id = :'rid'),
                       (SELECT max(end_at) FROM autoassign.bookings WHERE restaurant_id = :'rid'),
                       interval '30 minutes') AS slot,
       LATERAL autoassign.autoassign_free_capacity(:'rid', slot, slot + interval '30 minutes') f
 GROUP BY slot ORDER BY slot;

\echo
\echo '== Summary'
SELECT count(*) FILTER (WHERE ok) AS bookings_seated,
       count(*) AS bookings,
       sum(party_size) FILTER (WHERE ok) AS covers_seated,
       sum(party_size) AS covers,
       (SELECT count(DISTINCT table_id) FROM autoassign.allocations) AS tables_used,
       (SELECT count(*) FROM autoassign.outbox) AS confirmations_queued,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us) AS p50_duration_us,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_us) AS p95_duration_us
  FROM demo_results;

\echo
\echo '== Telemetry: events written by those calls'
SELECT event_type, source, count(*) AS events,
       count(*) FILTER (WHERE success) AS successes,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_us) AS p50_us,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_us) AS p99_us
  FROM autoassign.events GROUP BY 1, 2 ORDER BY 1, 2;

SELECT id AS unseated FROM demo_results WHERE NOT ok ORDER BY party_size DESC, start_at LIMIT 1 \gset
\if :{?unseated}
\echo
\echo '== Why did the largest unseated party get no table? (autoassign_explain)'
SELECT step, stage, kept, pruned, detail FROM autoassign.autoassign_explain(:'unseated');
\endif
