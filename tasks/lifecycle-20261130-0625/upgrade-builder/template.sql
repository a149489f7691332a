\echo Use "ALTER EXTENSION pg_autoassign UPDATE TO '0.2.0'" to load this file. \quit

-- pg_autoassign 0.1.0 -> 0.2.0. Runs inside ALTER EXTENSION ... UPDATE (one transaction,
-- search_path = autoassign) and leaves exactly what a fresh 0.2.0 install creates,
-- keeping every row of tenant data. scripts/upgrade_test.sh checks both: it upgrades a
-- 0.1.0 database with demo data and compares its schema with a fresh 0.2.0 install.
-- Definitions of new and changed objects are copied verbatim from the 0.2.0 install
-- script (sql/schema.sql, sql/sweep.sql, sql/lifecycle.sql, sql/api.sql, src/api/*.rs).
--
-- What changes:
--   * primary keys become (restaurant_id, id) on zones, tables, bookings, allocations,
--     holds and outbox; plain (non-unique) indexes on tables.id, bookings.id and
--     allocations.booking_id serve lookups by a bare id;
--   * allocations: UNIQUE (booking_id, table_id) -> UNIQUE (restaurant_id, booking_id, table_id);
--   * outbox: UNIQUE (restaurant_id, booking_id, kind) -> partial unique index outbox_once;
--   * bookings gain auto_assign_outcome / auto_assign_settled_at (backfilled from each
--     booking's auto_assign.summary event); bookings_pending skips settled bookings;
--   * tables gain retired_from;
--   * events: events_one_summary goes (exactly-once now follows from the guarded update
--     of the booking row); event_kind admits 'booking.lifecycle';
--   * retry_queue is rebuilt: key (restaurant_id, booking_id), no start_at, new indexes;
--     rows of bookings that are no longer waiting for auto-assign are dropped;
--   * the plpgsql sweep machinery (write_summary, retry_enqueue, booking_changed,
--     finish_queued, retry_after_failure, retry_delay, autoassign_sweep(int, int,
--     timestamptz)) is replaced by Rust functions and the lifecycle triggers.
--
-- Rebuilding the keys re-creates the foreign keys that reference them (a unique
-- constraint that a foreign key depends on cannot become the primary key in place), so
-- the upgrade scans the referencing tables once to validate them and holds ACCESS
-- EXCLUSIVE locks on the extension's tables until it commits.

-------------------------------------------------------------------------------------------
-- 1. The 0.1.0 sweep machinery. Dropped first, so that nothing below fires an old
--    trigger (and the backfill in step 2 runs with no UPDATE trigger on bookings).

DROP TRIGGER bookings_retry_enqueue ON bookings;
DROP TRIGGER bookings_changed ON bookings;
DROP FUNCTION retry_enqueue();
DROP FUNCTION booking_changed();
DROP FUNCTION autoassign_sweep(int, int, timestamptz);
DROP FUNCTION retry_after_failure(uuid, text, text, text);
DROP FUNCTION finish_queued(uuid, text, text, jsonb);
DROP FUNCTION retry_delay(text, int);
DROP FUNCTION write_summary(uuid, uuid, text, text, text, int, jsonb);

-------------------------------------------------------------------------------------------
-- 2. New columns (appended, as in a fresh install's column order).

ALTER TABLE tables
    -- out of service from this time on (autoassign_retire_table); NULL = in service
    ADD COLUMN retired_from timestamptz NULL;

ALTER TABLE bookings
    ADD COLUMN auto_assign_outcome text NULL CONSTRAINT bookings_outcome_known
        CHECK (auto_assign_outcome IN ('confirmed', 'gave_up', 'cutoff', 'cancelled')),
    ADD COLUMN auto_assign_settled_at timestamptz NULL;

-- A booking that 0.1.0 already settled has its one summary event (events_one_summary
-- allowed no second one): its reason is the outcome, its time the settling time.
-- updated_at is left alone: the booking itself did not change.
UPDATE bookings b
   SET auto_assign_outcome = s.reason,
       auto_assign_settled_at = s.at
  FROM (SELECT DISTINCT ON (e.booking_id) e.booking_id, e.reason, e.at
          FROM events e
         WHERE e.event_type = 'auto_assign.summary' AND e.booking_id IS NOT NULL
           AND e.reason IN ('confirmed', 'gave_up', 'cutoff', 'cancelled')
         ORDER BY e.booking_id, e.id DESC) s
 WHERE b.id = s.booking_id;

-------------------------------------------------------------------------------------------
-- 3. retry_queue, part one: the old table steps aside (its rows are copied into the new
--    table in step 5, once bookings has its new key), lets go of bookings' old key and
--    gives up its constraint and index names, which the new table reuses. It is rebuilt
--    rather than altered so that its columns end up in a fresh install's order.

ALTER TABLE retry_queue RENAME TO retry_queue_0_1_0;
ALTER TABLE retry_queue_0_1_0
    DROP CONSTRAINT retry_queue_restaurant_id_booking_id_fkey,
    DROP CONSTRAINT retry_queue_pkey,
    DROP CONSTRAINT retry_queue_last_class_check;
DROP INDEX retry_queue_due, retry_queue_woken, retry_queue_restaurant;

-------------------------------------------------------------------------------------------
-- 4. Keys. The foreign keys that reference the old UNIQUE (restaurant_id, id) of zones,
--    tables and bookings go first and come back, under the same names, on the new
--    primary keys.

ALTER TABLE tables DROP CONSTRAINT tables_restaurant_id_zone_id_fkey;
ALTER TABLE bookings DROP CONSTRAINT bookings_restaurant_id_zone_id_fkey;
ALTER TABLE table_adjacency
    DROP CONSTRAINT table_adjacency_restaurant_id_table_a_fkey,
    DROP CONSTRAINT table_adjacency_restaurant_id_table_b_fkey;
ALTER TABLE allocations
    DROP CONSTRAINT allocations_restaurant_id_booking_id_fkey,
    DROP CONSTRAINT allocations_restaurant_id_table_id_fkey;
ALTER TABLE holds
    DROP CONSTRAINT holds_restaurant_id_booking_id_fkey,
    DROP CONSTRAINT holds_restaurant_id_table_id_fkey;
ALTER TABLE outbox DROP CONSTRAINT outbox_restaurant_id_booking_id_fkey;

-- id keeps its NOT NULL (it came with the old primary key; 0.2.0 declares it).
ALTER TABLE zones
    DROP CONSTRAINT zones_pkey,
    DROP CONSTRAINT zones_restaurant_id_id_key,
    ADD CONSTRAINT zones_pkey PRIMARY KEY (restaurant_id, id);

ALTER TABLE tables
    DROP CONSTRAINT tables_pkey,
    DROP CONSTRAINT tables_restaurant_id_id_key,
    ADD CONSTRAINT tables_pkey PRIMARY KEY (restaurant_id, id),
    -- the composite key keeps a table inside its own restaurant's zone
    ADD CONSTRAINT tables_restaurant_id_zone_id_fkey
        FOREIGN KEY (restaurant_id, zone_id) REFERENCES zones (restaurant_id, id) ON DELETE CASCADE;
CREATE INDEX tables_id ON tables (id);
CREATE INDEX tables_retired ON tables (restaurant_id, retired_from) WHERE retired_from IS NOT NULL;

ALTER TABLE table_adjacency
    ADD CONSTRAINT table_adjacency_restaurant_id_table_a_fkey
        FOREIGN KEY (restaurant_id, table_a) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT table_adjacency_restaurant_id_table_b_fkey
        FOREIGN KEY (restaurant_id, table_b) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE;

ALTER TABLE bookings
    DROP CONSTRAINT bookings_pkey,
    DROP CONSTRAINT bookings_restaurant_id_id_key,
    ADD CONSTRAINT bookings_pkey PRIMARY KEY (restaurant_id, id),
    ADD CONSTRAINT bookings_restaurant_id_zone_id_fkey
        FOREIGN KEY (restaurant_id, zone_id) REFERENCES zones (restaurant_id, id)
        ON DELETE SET NULL (zone_id);
-- The sweep and the lookahead read the bookings still waiting for auto-assign, of one
-- restaurant, by start time. Settled (given up, cut off) bookings leave this index.
DROP INDEX bookings_pending;
CREATE INDEX bookings_pending ON bookings (restaurant_id, start_at, id)
    WHERE status = 'pending' AND auto_assign_outcome IS NULL;
CREATE INDEX bookings_id ON bookings (id);

ALTER TABLE allocations
    DROP CONSTRAINT allocations_pkey,
    DROP CONSTRAINT allocations_booking_id_table_id_key,
    ADD CONSTRAINT allocations_pkey PRIMARY KEY (restaurant_id, id),
    ADD CONSTRAINT allocations_restaurant_id_booking_id_table_id_key
        UNIQUE (restaurant_id, booking_id, table_id),
    ADD CONSTRAINT allocations_restaurant_id_booking_id_fkey
        FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT allocations_restaurant_id_table_id_fkey
        FOREIGN KEY (restaurant_id, table_id) REFERENCES tables (restaurant_id, id)
        DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX allocations_booking ON allocations (booking_id);

ALTER TABLE holds
    DROP CONSTRAINT holds_pkey,
    ADD CONSTRAINT holds_pkey PRIMARY KEY (restaurant_id, id),
    ADD CONSTRAINT holds_restaurant_id_booking_id_fkey
        FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE,
    ADD CONSTRAINT holds_restaurant_id_table_id_fkey
        FOREIGN KEY (restaurant_id, table_id) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE;

-- Outbox (SPEC §7): one message per booking for the one-off kinds (booking_confirmed,
-- auto_assign_gave_up), whoever causes it; tables_changed and tables_lost may repeat.
-- 0.1.0 allowed one message per booking and kind, so existing rows satisfy outbox_once.
ALTER TABLE outbox
    DROP CONSTRAINT outbox_pkey,
    DROP CONSTRAINT outbox_restaurant_id_booking_id_kind_key,
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (restaurant_id, id),
    ADD CONSTRAINT outbox_restaurant_id_booking_id_fkey
        FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE;
CREATE UNIQUE INDEX outbox_once ON outbox (restaurant_id, booking_id, kind)
    WHERE kind IN ('booking_confirmed', 'auto_assign_gave_up');

-- Telemetry: the summary is exactly-once through the booking row now, and the lifecycle
-- triggers write a new event kind.
DROP INDEX events_one_summary;
ALTER DOMAIN event_kind DROP CONSTRAINT event_kind_known;
ALTER DOMAIN event_kind ADD CONSTRAINT event_kind_known CHECK (VALUE IN (
    'auto_assign.quote', 'auto_assign.attempt', 'auto_assign.summary', 'auto_assign.timeout',
    'booking.lifecycle'));

-------------------------------------------------------------------------------------------
-- 5. Retry sweep (sql/sweep.sql).

@@retry_policy_upsert@@

@@retry_queue@@

-- The queue keeps only bookings still waiting for auto-assign: 0.1.0 left the rows of
-- confirmed and cancelled bookings for its sweep to delete. A row 0.1.0 queued for a
-- booking that was never attempted yet stays, and is retried when due.
INSERT INTO retry_queue (restaurant_id, booking_id, attempts_hard, attempts_transient,
                         attempts_capacity, next_attempt_at, last_reason, last_class, wake,
                         enqueued_at, updated_at)
SELECT q.restaurant_id, q.booking_id, q.attempts_hard, q.attempts_transient,
       q.attempts_capacity, q.next_attempt_at, q.last_reason, q.last_class, q.wake,
       q.enqueued_at, q.updated_at
  FROM retry_queue_0_1_0 q
  JOIN bookings b ON b.restaurant_id = q.restaurant_id AND b.id = q.booking_id
 WHERE b.status = 'pending' AND b.auto_assign_outcome IS NULL;
DROP TABLE retry_queue_0_1_0;

@@wake_overlapping@@

@@floor_changed_wake@@

@@cron@@

-------------------------------------------------------------------------------------------
-- 6. The booking lifecycle (sql/lifecycle.sql). Its functions call the Rust functions of
--    step 7 only at run time.

@@lifecycle@@

-------------------------------------------------------------------------------------------
-- 7. New Rust functions (generated by pgrx; autoassign_sweep gained restaurant_id).

@@retire_table_at@@

@@sweep@@

@@booking_plan_problem@@

@@replan_booking@@

@@floor_cache_stats@@

-------------------------------------------------------------------------------------------
-- 8. SQL-level API on top of them (sql/api.sql).

@@retire_table@@

-------------------------------------------------------------------------------------------
-- 8a. The lookahead's window: the longest stay per restaurant (sql/schema.sql).
-- added without a default and filled in, then given its default: a fresh install has
-- no stored "missing value" for it, so neither does the upgraded table
ALTER TABLE restaurants ADD COLUMN longest_stay_minutes int;
UPDATE restaurants r
   SET longest_stay_minutes = coalesce(
       (SELECT max(ceil(extract(epoch FROM b.end_at - b.start_at) / 60))::int
          FROM bookings b WHERE b.restaurant_id = r.id AND b.end_at IS NOT NULL), 0);
ALTER TABLE restaurants ALTER COLUMN longest_stay_minutes SET DEFAULT 0,
                        ALTER COLUMN longest_stay_minutes SET NOT NULL;

@@longest_stay@@

-------------------------------------------------------------------------------------------
-- 8b. pg_dump carries every row: register the tables and sequences (sql/schema.sql).
SELECT pg_catalog.pg_extension_config_dump('restaurants', '');
SELECT pg_catalog.pg_extension_config_dump('zones', '');
SELECT pg_catalog.pg_extension_config_dump('tables', '');
SELECT pg_catalog.pg_extension_config_dump('table_adjacency', '');
SELECT pg_catalog.pg_extension_config_dump('bookings', '');
SELECT pg_catalog.pg_extension_config_dump('allocations', '');
SELECT pg_catalog.pg_extension_config_dump('holds', '');
SELECT pg_catalog.pg_extension_config_dump('events', '');
SELECT pg_catalog.pg_extension_config_dump('outbox', '');
SELECT pg_catalog.pg_extension_config_dump('floor_version_seq', '');
SELECT pg_catalog.pg_extension_config_dump('allocations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('holds_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('outbox_id_seq', '');

-------------------------------------------------------------------------------------------
-- 9. A booking holds tables only while confirmed or seated (SPEC "Lifecycle"). 0.1.0 let
--    the booking app set any status with a plain UPDATE and left the tables allocated
--    (and a 0.2.0 library's autoassign_cancel, called before this update ran, does the
--    same): those bookings release their tables now, from now on, as 0.2.0 does on the
--    status change itself. The past is left as it was.
SELECT release_tables(b.restaurant_id, b.id, clock_now())
  FROM bookings b
 WHERE b.status NOT IN ('confirmed', 'seated')
   AND EXISTS (SELECT 1 FROM allocations a
                WHERE a.restaurant_id = b.restaurant_id AND a.booking_id = b.id
                  AND upper(a.during) > clock_now());
