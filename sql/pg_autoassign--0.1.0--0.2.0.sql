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

-- A policy row changed by the DBA is dumped with the data (pg_extension_config_dump
-- above). On restore the extension script has already seeded the three classes, so an
-- insert of an existing class updates it instead of colliding.
CREATE FUNCTION retry_policy_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE autoassign.retry_policy p
       SET max_attempts = NEW.max_attempts, base_delay = NEW.base_delay, max_delay = NEW.max_delay,
           jitter = NEW.jitter, relax_after_timeout = NEW.relax_after_timeout,
           max_waiting = NEW.max_waiting, waiting_per_seated = NEW.waiting_per_seated
     WHERE p.class = NEW.class;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER retry_policy_upsert BEFORE INSERT ON retry_policy
    FOR EACH ROW EXECUTE FUNCTION retry_policy_upsert();

-- The bookings that need a retry, and only those: a failed confirm (any caller) or a
-- booking un-assigned by a floor edit. Confirm and cancel remove their own row in their
-- transaction (the bookings_lifecycle trigger), so the queue never fills with settled
-- bookings. The retry decision itself is autoassign_planner::retry (pure Rust).
CREATE TABLE retry_queue (
    restaurant_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    attempts_hard int NOT NULL DEFAULT 0,
    attempts_transient int NOT NULL DEFAULT 0,
    attempts_capacity int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_reason text,
    last_class text CHECK (last_class IN ('hard', 'capacity', 'transient')),
    wake bool NOT NULL DEFAULT false,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (restaurant_id, booking_id),
    FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE
);
SELECT pg_catalog.pg_extension_config_dump('retry_queue', '');
CREATE INDEX retry_queue_due ON retry_queue (restaurant_id, next_attempt_at);
CREATE INDEX retry_queue_woken ON retry_queue (restaurant_id) WHERE wake;

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

-- Freed capacity wakes exactly the queued capacity-class bookings of the same
-- restaurant whose stay overlaps the freed window.
-- Rows a running sweep holds are skipped (SKIP LOCKED): that sweep is handling them,
-- and a cancel must never wait for a sweep.
CREATE OR REPLACE FUNCTION wake_overlapping(p_restaurant uuid, p_freed tstzrange) RETURNS int
-- plpgsql so the plan is cached per session (it runs inside every cancel)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n int;
BEGIN
    WITH candidates AS (
        SELECT q.booking_id
          FROM autoassign.retry_queue q
          JOIN autoassign.bookings b ON b.restaurant_id = q.restaurant_id AND b.id = q.booking_id
          JOIN autoassign.restaurants r ON r.id = b.restaurant_id
         WHERE q.restaurant_id = p_restaurant
           AND q.last_class = 'capacity' AND NOT q.wake
           AND tstzrange(b.start_at, autoassign.stay_end(b.start_at, b.end_at,
                                                         r.default_duration_minutes, r.buffer_after_minutes))
               && p_freed
           FOR UPDATE OF q SKIP LOCKED
    )
    UPDATE autoassign.retry_queue q SET wake = true, updated_at = now()
      FROM candidates c WHERE q.restaurant_id = p_restaurant AND q.booking_id = c.booking_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- A floor edit can change what fits at any time: wake every capacity-class booking.
CREATE OR REPLACE FUNCTION floor_changed_wake() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE autoassign.retry_queue SET wake = true, updated_at = now()
     WHERE restaurant_id = coalesce(NEW.restaurant_id, OLD.restaurant_id)
       AND booking_id IN (
        SELECT booking_id FROM autoassign.retry_queue
         WHERE restaurant_id = coalesce(NEW.restaurant_id, OLD.restaurant_id)
           AND last_class = 'capacity' AND NOT wake
           FOR UPDATE SKIP LOCKED);
    RETURN NULL;
END $$;

-- pg_cron registration. pg_cron is optional: without it, call autoassign_sweep() from
-- any scheduler. pg_cron runs in one database (cron.database_name, usually postgres on
-- managed services); from any other database the job must be created there with
-- cron.schedule_in_database, and the error's hint gives the exact statement.
CREATE OR REPLACE FUNCTION autoassign_schedule_sweep(schedule text DEFAULT '* * * * *') RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job bigint;
    cron_db text := nullif(current_setting('cron.database_name', true), '');
    command constant text := 'SELECT * FROM autoassign.autoassign_sweep()';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
            USING 'pg_autoassign_sweep', schedule, command;
        RETURN job;
    END IF;
    IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron runs in database %, not in %', cron_db, current_database()
            USING ERRCODE = '42704',
                  HINT = format('Connect to database %I and run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                cron_db, 'pg_autoassign_sweep:' || current_database(), schedule, command,
                                current_database());
    END IF;
    RAISE EXCEPTION 'pg_cron is not installed in this database'
        USING ERRCODE = '42704',
              HINT = CASE WHEN cron_db IS NOT NULL
                          THEN 'Run CREATE EXTENSION pg_cron in this database (cron.database_name is '
                               || cron_db || '); or call autoassign.autoassign_sweep() from any scheduler.'
                          ELSE 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, restart, '
                               || 'then CREATE EXTENSION pg_cron in the database cron.database_name names; '
                               || 'or call autoassign.autoassign_sweep() from any scheduler.' END;
END $$;

CREATE OR REPLACE FUNCTION autoassign_unschedule_sweep() RETURNS bool
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done bool := false;
    cron_db text := nullif(current_setting('cron.database_name', true), '');
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1' INTO done
            USING 'pg_autoassign_sweep';
    ELSIF cron_db IS NOT NULL AND cron_db <> current_database() THEN
        RAISE NOTICE 'pg_cron runs in database %', cron_db
            USING HINT = format('Connect to %I and run: SELECT cron.unschedule(%L);',
                                cron_db, 'pg_autoassign_sweep:' || current_database());
    END IF;
    RETURN coalesce(done, false);
END $$;

-------------------------------------------------------------------------------------------
-- 6. The booking lifecycle (sql/lifecycle.sql). Its functions call the Rust functions of
--    step 7 only at run time.

-- The booking lifecycle (SPEC "Lifecycle"). The database owns it, whatever path writes:
-- autoassign_confirm, autoassign_cancel, the sweep and the booking app's own plain
-- UPDATEs all go through the two triggers below, so they give the same result.
--
--   pending ──> confirmed ──> seated ──> completed
--      │  ^        │  │          │
--      │  └────────┘  │          └──> no_show
--      │ (un-assign)  ├──> no_show
--      └──> cancelled <┘
--
-- A booking holds tables while confirmed or seated. See README "Booking lifecycle".

-- Every legal status change, with what it does. The state machine reads this view, so
-- the documentation and the enforcement cannot drift apart.
CREATE VIEW booking_transitions (from_status, to_status, effect) AS VALUES
    ('pending', 'confirmed', 'needs tables (autoassign_confirm inserts them first); settles the outcome confirmed, one booking_confirmed message'),
    ('pending', 'cancelled', 'settles the outcome cancelled; leaves the retry queue'),
    ('confirmed', 'seated', 'keeps the tables'),
    ('confirmed', 'cancelled', 'releases the tables from now; wakes overlapping waiting bookings'),
    ('confirmed', 'no_show', 'releases the tables from now; wakes overlapping waiting bookings'),
    ('confirmed', 'pending', 'un-assigns: releases the tables, a new auto-assign round, queued for the sweep'),
    ('seated', 'completed', 'releases the rest of the stay from now (guests left early)'),
    ('seated', 'no_show', 'releases the tables from now');
COMMENT ON VIEW booking_transitions IS
    'The booking state machine: every legal (from_status, to_status) and its effect. Any other status change is refused with 23514.';

-- The caller named in lifecycle and summary events: autoassign.caller when one of the
-- extension's functions set it in its own UPDATE (bookings_lifecycle resets it), else
-- sql (a plain UPDATE).
CREATE FUNCTION lifecycle_source() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(current_setting('autoassign.caller', true), ''), 'sql')
$$;

-- The per-table transaction advisory locks, taken in one global order (by key): confirm
-- takes them before inserting allocations, and floor edits, retirements, stay moves,
-- party changes and stay-rule changes take the same ones, so all of them serialise per
-- table without deadlocking. The one place the lock key is derived.
CREATE FUNCTION lock_tables(p_tables uuid[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- PERFORM runs the query to the end: every key is locked
    PERFORM pg_advisory_xact_lock(hashtext('pg_autoassign.table'), k)
       FROM (SELECT DISTINCT hashtext(t::text) AS k FROM unnest(p_tables) AS t ORDER BY 1 OFFSET 0) keys;
END $$;

-- Releases a booking's tables from p_at on, never rewriting the past: allocations that
-- start at or after p_at go, one that spans p_at is cut short at p_at. The
-- allocations_freed trigger wakes overlapping waiting bookings. Returns the number of
-- tables freed.
CREATE FUNCTION release_tables(p_restaurant uuid, p_booking uuid, p_at timestamptz) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n_gone int;
    n_cut int;
BEGIN
    DELETE FROM autoassign.allocations a
     WHERE a.restaurant_id = p_restaurant AND a.booking_id = p_booking AND lower(a.during) >= p_at;
    GET DIAGNOSTICS n_gone = ROW_COUNT;
    UPDATE autoassign.allocations a SET during = tstzrange(lower(a.during), p_at)
     WHERE a.restaurant_id = p_restaurant AND a.booking_id = p_booking
       AND lower(a.during) < p_at AND upper(a.during) > p_at;
    GET DIAGNOSTICS n_cut = ROW_COUNT;
    RETURN n_gone + n_cut;
END $$;

-- BEFORE UPDATE: refuses illegal changes and keeps the outcome columns honest. The
-- outcome is settled once per round: by pending -> confirmed or -> cancelled, or by the
-- sweep setting gave_up/cutoff on a pending booking. A settled outcome never changes,
-- except that a given-up booking confirmed after all is confirmed; un-assigning
-- (confirmed -> pending) starts a new round.
CREATE FUNCTION bookings_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.restaurant_id IS DISTINCT FROM OLD.restaurant_id THEN
        RAISE EXCEPTION 'booking %: id and restaurant_id cannot change', OLD.id
            USING ERRCODE = '23514', HINT = 'Cancel the booking and create a new one.';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
           SELECT 1 FROM autoassign.booking_transitions t
            WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
        RAISE EXCEPTION 'booking %: illegal status change % -> %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = '23514',
                  HINT = coalesce('From ' || OLD.status || ' a booking may go to: '
                      || (SELECT string_agg(t.to_status, ', ' ORDER BY t.to_status)
                            FROM autoassign.booking_transitions t WHERE t.from_status = OLD.status)
                      || ' (see autoassign.booking_transitions).',
                      OLD.status || ' is final (see autoassign.booking_transitions).');
    END IF;
    NEW.updated_at := now();

    IF NEW.status = 'pending' AND OLD.status <> 'pending' THEN
        NEW.auto_assign_outcome := NULL;        -- un-assigned: a new round
        NEW.auto_assign_settled_at := NULL;
    ELSIF OLD.status = 'pending' AND NEW.status = 'confirmed' THEN
        -- confirmed settles the round; a booking auto-assign had given up on (or cut
        -- off) that a host or caller confirms after all is confirmed, not gave_up
        NEW.auto_assign_outcome := 'confirmed';
        NEW.auto_assign_settled_at := autoassign.clock_now();
    ELSIF OLD.auto_assign_outcome IS NOT NULL THEN
        NEW.auto_assign_outcome := OLD.auto_assign_outcome;
        NEW.auto_assign_settled_at := OLD.auto_assign_settled_at;
    ELSE
        IF NEW.auto_assign_outcome IS NOT NULL
           AND NOT (NEW.status = 'pending' AND NEW.auto_assign_outcome IN ('gave_up', 'cutoff')) THEN
            RAISE EXCEPTION 'booking %: outcome % cannot be set on a % booking',
                OLD.id, NEW.auto_assign_outcome, NEW.status
                USING ERRCODE = '23514',
                      HINT = 'Only gave_up or cutoff are set directly, on pending bookings; confirmed and cancelled follow from the status.';
        END IF;
        IF OLD.status = 'pending' AND NEW.status = 'cancelled' THEN
            NEW.auto_assign_outcome := 'cancelled';
        END IF;
        IF NEW.auto_assign_outcome IS NOT NULL THEN
            NEW.auto_assign_settled_at := autoassign.clock_now();
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_guard BEFORE UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_guard();

-- AFTER UPDATE: the effects of a change on the tables, the queue, the outbox and the
-- telemetry, in the same transaction as the change.
CREATE FUNCTION bookings_lifecycle() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    held_old bool := OLD.status IN ('confirmed', 'seated');
    held_new bool := NEW.status IN ('confirmed', 'seated');
    src text := autoassign.lifecycle_source();
    freed int;
    change text;
    tables uuid[];
BEGIN
    IF held_old AND NOT held_new THEN
        freed := autoassign.release_tables(NEW.restaurant_id, NEW.id, autoassign.clock_now());
        change := 'released';
    ELSIF held_new AND NOT held_old THEN
        SELECT array_agg(a.table_id ORDER BY a.table_id) INTO tables
          FROM autoassign.allocations a
         WHERE a.restaurant_id = NEW.restaurant_id AND a.booking_id = NEW.id;
        IF tables IS NULL THEN
            RAISE EXCEPTION 'booking % cannot be % without tables', NEW.id, NEW.status
                USING ERRCODE = '23514',
                      HINT = 'Call autoassign.autoassign_confirm(booking_id): it plans the tables and confirms in one step.';
        END IF;
        INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
        VALUES (NEW.restaurant_id, NEW.id, 'booking_confirmed',
                jsonb_build_object('booking_id', NEW.id, 'table_ids', to_jsonb(tables),
                                   'party_size', NEW.party_size))
        ON CONFLICT (restaurant_id, booking_id, kind)
            WHERE kind IN ('booking_confirmed', 'auto_assign_gave_up') DO NOTHING;
    ELSIF held_new THEN
        IF (NEW.start_at, NEW.end_at) IS DISTINCT FROM (OLD.start_at, OLD.end_at) THEN
            -- the tables' advisory locks, in the order confirm takes them: a confirm or a
            -- floor edit on these tables waits for us (or we for it), never deadlocks
            PERFORM autoassign.lock_tables(ARRAY(
                SELECT a.table_id FROM autoassign.allocations a
                 WHERE a.restaurant_id = NEW.restaurant_id AND a.booking_id = NEW.id));
            BEGIN
                -- a seated party keeps the start it was seated at
                UPDATE autoassign.allocations a
                   SET during = tstzrange(CASE WHEN NEW.status = 'seated' THEN lower(a.during) ELSE NEW.start_at END,
                                          autoassign.stay_end(NEW.start_at, NEW.end_at,
                                                              r.default_duration_minutes, r.buffer_after_minutes))
                  FROM autoassign.restaurants r
                 WHERE a.restaurant_id = NEW.restaurant_id AND a.booking_id = NEW.id
                   AND r.id = NEW.restaurant_id AND upper(a.during) > autoassign.clock_now();
            EXCEPTION WHEN exclusion_violation THEN
                RAISE EXCEPTION 'booking %: its tables are taken at the new time', NEW.id
                    USING ERRCODE = '23P01',
                          HINT = 'Keep the old time, pick a time autoassign_alternatives(booking_id) offers, '
                              || 'or set the booking back to pending so auto-assign finds other tables.';
            END;
            IF EXISTS (SELECT 1 FROM autoassign.allocations a
                         JOIN autoassign.tables t ON t.restaurant_id = a.restaurant_id AND t.id = a.table_id
                        WHERE a.restaurant_id = NEW.restaurant_id AND a.booking_id = NEW.id
                          AND upper(a.during) > autoassign.clock_now()
                          AND (NOT t.active OR t.retired_from < upper(a.during))) THEN
                RAISE EXCEPTION 'booking %: a table of it is out of service at the new time', NEW.id
                    USING ERRCODE = '23P01',
                          HINT = 'Keep the old time, or set the booking back to pending so auto-assign finds other tables.';
            END IF;
            change := 'moved';
        END IF;
        IF NEW.party_size <> OLD.party_size THEN
            -- keep the tables if they still seat the party, else move, else refuse (Rust)
            change := coalesce(change || ', ', '') || autoassign.replan_booking(NEW.id, src);
        END IF;
    END IF;

    IF NEW.status <> 'pending' OR NEW.auto_assign_outcome IS NOT NULL
       OR (NEW.start_at, NEW.end_at, NEW.party_size) IS DISTINCT FROM (OLD.start_at, OLD.end_at, OLD.party_size) THEN
        -- a hold is for a pending booking's planned stay: it goes when the booking
        -- leaves pending, is settled, or its stay or party changes
        DELETE FROM autoassign.holds h WHERE h.restaurant_id = NEW.restaurant_id AND h.booking_id = NEW.id;
    END IF;

    IF NEW.status = 'pending' AND OLD.status <> 'pending' THEN
        -- un-assigned: auto-assign tries again at the next sweep
        INSERT INTO autoassign.retry_queue AS q
            (restaurant_id, booking_id, next_attempt_at, wake, last_reason, last_class)
        VALUES (NEW.restaurant_id, NEW.id, autoassign.clock_now(), true, 'unassigned', 'capacity')
        ON CONFLICT (restaurant_id, booking_id)
            DO UPDATE SET wake = true, next_attempt_at = autoassign.clock_now(), updated_at = now();
    ELSIF NEW.status <> 'pending' OR NEW.auto_assign_outcome IS NOT NULL THEN
        -- settled or left pending: nothing to retry
        DELETE FROM autoassign.retry_queue q
         WHERE q.restaurant_id = NEW.restaurant_id AND q.booking_id = NEW.id;
    END IF;

    -- what happened, unless the summary below already tells it (a settling change)
    IF (change IS NOT NULL OR NEW.status IS DISTINCT FROM OLD.status)
       AND (NEW.auto_assign_outcome IS NOT DISTINCT FROM OLD.auto_assign_outcome
            OR NEW.auto_assign_outcome IS NULL) THEN
        INSERT INTO autoassign.events (event_type, restaurant_id, booking_id, source, success, reason, payload)
        VALUES ('booking.lifecycle', NEW.restaurant_id, NEW.id, src, true, coalesce(change, 'status'),
                jsonb_build_object('from', OLD.status, 'to', NEW.status, 'tables_freed', freed,
                                   'party_size', NEW.party_size, 'start_at', NEW.start_at, 'end_at', NEW.end_at));
    END IF;

    IF NEW.auto_assign_outcome IS DISTINCT FROM OLD.auto_assign_outcome
       AND NEW.auto_assign_outcome IS NOT NULL THEN
        -- the guarded update above settled it: this runs once per round
        INSERT INTO autoassign.events
            (event_type, restaurant_id, booking_id, source, success, reason, duration_us, attempt, payload)
        VALUES ('auto_assign.summary', NEW.restaurant_id, NEW.id,
                coalesce(NEW.auto_assign_last_result->>'source', src),
                NEW.auto_assign_outcome = 'confirmed', NEW.auto_assign_outcome,
                (extract(epoch FROM clock_timestamp() - NEW.created_at) * 1000000)::int8,
                coalesce((NEW.auto_assign_last_result->>'attempt')::int, 0),
                coalesce(NEW.auto_assign_last_result->'settle', '{}') || jsonb_build_object('outcome', NEW.auto_assign_outcome,
                    'final_reason', NEW.auto_assign_last_result->>'reason',
                    'attempts', coalesce((NEW.auto_assign_last_result->>'attempt')::int, 0),
                    'previous_status', OLD.status, 'settled_by', src,
                    'table_ids', NEW.auto_assign_last_result->'table_ids'));
        IF NEW.auto_assign_outcome IN ('gave_up', 'cutoff') THEN
            INSERT INTO autoassign.outbox (restaurant_id, booking_id, kind, payload)
            VALUES (NEW.restaurant_id, NEW.id, 'auto_assign_gave_up',
                    jsonb_build_object('booking_id', NEW.id, 'outcome', NEW.auto_assign_outcome,
                                       'final_reason', NEW.auto_assign_last_result->>'reason',
                                       'party_size', NEW.party_size, 'start_at', NEW.start_at))
            ON CONFLICT (restaurant_id, booking_id, kind)
                WHERE kind IN ('booking_confirmed', 'auto_assign_gave_up') DO NOTHING;
        END IF;
    END IF;
    IF src <> 'sql' THEN
        -- set by the function that made this change, for this change only
        PERFORM set_config('autoassign.caller', '', true);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_lifecycle AFTER UPDATE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_lifecycle();

-- A change of the restaurant's default stay or turnover buffer re-stretches the future
-- allocations of its confirmed and seated bookings (bookings without an end_at stay
-- default_duration_minutes; every stay blocks its tables buffer_after_minutes longer),
-- or is refused with 23P01 when a longer stay would collide with a later booking.
CREATE FUNCTION restaurants_stay_rules_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM autoassign.lock_tables(ARRAY(
        SELECT a.table_id FROM autoassign.allocations a
         WHERE a.restaurant_id = NEW.id AND upper(a.during) > autoassign.clock_now()));
    BEGIN
        UPDATE autoassign.allocations a
           SET during = tstzrange(lower(a.during),
                                  autoassign.stay_end(b.start_at, b.end_at, NEW.default_duration_minutes,
                                                      NEW.buffer_after_minutes))
          FROM autoassign.bookings b
         WHERE a.restaurant_id = NEW.id AND b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
           AND b.status IN ('confirmed', 'seated') AND upper(a.during) > autoassign.clock_now()
           AND upper(a.during) IS DISTINCT FROM autoassign.stay_end(b.start_at, b.end_at,
                   NEW.default_duration_minutes, NEW.buffer_after_minutes);
    EXCEPTION WHEN exclusion_violation THEN
        RAISE EXCEPTION 'restaurant %: the new stay rules make confirmed bookings collide', NEW.id
            USING ERRCODE = '23P01',
                  HINT = 'Longer stays or buffers overlap later bookings on the same tables: '
                      || 'give those bookings an explicit end_at first, or apply the change after service.';
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER restaurants_stay_rules AFTER UPDATE OF default_duration_minutes, buffer_after_minutes
    ON restaurants FOR EACH ROW
    WHEN ((NEW.default_duration_minutes, NEW.buffer_after_minutes)
          IS DISTINCT FROM (OLD.default_duration_minutes, OLD.buffer_after_minutes))
    EXECUTE FUNCTION restaurants_stay_rules_changed();

-- Floor edits under future bookings. A change to a table that a confirmed or seated
-- booking holds from now on (or after its retired_from) is refused when it would
-- strand that booking; autoassign_retire_table moves such bookings first.
CREATE FUNCTION tables_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    stranded text;
BEGIN
    -- the advisory lock confirm takes before inserting on this table: a confirm that
    -- got there first has committed (and is seen below); a later one waits for this
    -- transaction, then re-checks its plan against the new floor
    PERFORM autoassign.lock_tables(ARRAY[NEW.id]);
    SELECT string_agg(DISTINCT a.booking_id::text || ' (' || b.status || ', party ' || b.party_size
                      || ', ' || lower(a.during) || ')', '; ')
      INTO stranded
      FROM autoassign.allocations a
      JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
     WHERE a.restaurant_id = NEW.restaurant_id AND a.table_id = NEW.id
       AND upper(a.during) > autoassign.clock_now()
       AND b.status IN ('confirmed', 'seated')
       AND (NOT NEW.active OR NEW.zone_id <> OLD.zone_id
            OR (NEW.retired_from IS NOT NULL AND upper(a.during) > NEW.retired_from)
            OR autoassign.booking_plan_problem(a.booking_id) IS NOT NULL);
    IF stranded IS NOT NULL THEN
        RAISE EXCEPTION 'table % (%): this change strands future bookings', NEW.name, NEW.id
            USING ERRCODE = '23514', DETAIL = 'Bookings: ' || stranded,
                  HINT = 'Move them first: SELECT * FROM autoassign.autoassign_retire_table('''
                      || NEW.id || ''', now()) re-plans them onto other tables; or cancel them.';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tables_guard AFTER UPDATE OF active, capacity, min_party, max_party, zone_id, combinable, retired_from
    ON tables FOR EACH ROW EXECUTE FUNCTION tables_guard();

-- Removing (or re-pointing) an adjacency edge that a future multi-table booking needs
-- to stay connected is refused the same way.
CREATE FUNCTION table_adjacency_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    stranded text;
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (
           SELECT 1 FROM autoassign.tables t
            WHERE t.restaurant_id = OLD.restaurant_id AND t.id IN (OLD.table_a, OLD.table_b)
           HAVING count(*) = 2) THEN
        -- removed by the cascade of deleting a table (or a whole restaurant): the table
        -- goes, and its allocations' foreign key refuses that at commit if any remain.
        -- No advisory lock per edge then: a restaurant's bulk delete would need
        -- thousands (measured: out of shared memory deleting 2,000 restaurants).
        RETURN NULL;
    END IF;
    PERFORM autoassign.lock_tables(ARRAY[OLD.table_a, OLD.table_b]);
    SELECT string_agg(DISTINCT a.booking_id::text, ', ') INTO stranded
      FROM autoassign.allocations a
      JOIN autoassign.allocations o ON o.restaurant_id = a.restaurant_id AND o.booking_id = a.booking_id
      JOIN autoassign.bookings b ON b.restaurant_id = a.restaurant_id AND b.id = a.booking_id
     WHERE a.restaurant_id = OLD.restaurant_id AND a.table_id = OLD.table_a AND o.table_id = OLD.table_b
       AND upper(a.during) > autoassign.clock_now() AND b.status IN ('confirmed', 'seated')
       AND autoassign.booking_plan_problem(a.booking_id) IS NOT NULL;
    IF stranded IS NOT NULL THEN
        RAISE EXCEPTION 'adjacency % - %: future bookings need this edge', OLD.table_a, OLD.table_b
            USING ERRCODE = '23514', DETAIL = 'Bookings: ' || stranded,
                  HINT = 'Re-plan them first (set them back to pending, or autoassign_retire_table one of the tables), then remove the edge.';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER table_adjacency_guard AFTER UPDATE OR DELETE ON table_adjacency
    FOR EACH ROW EXECUTE FUNCTION table_adjacency_guard();

-------------------------------------------------------------------------------------------
-- 7. New Rust functions (generated by pgrx; autoassign_sweep gained restaurant_id).

-- pg_autoassign::api::lifecycle::autoassign_retire_table_at
CREATE  FUNCTION "autoassign_retire_table_at"(
	"table_id" uuid, /* Option < Uuid > */
	"retire_from" timestamp with time zone, /* Option < TimestampWithTimeZone > */
	"source" TEXT DEFAULT 'ops' /* Option < & str > */
) RETURNS TABLE (
	"booking_id" uuid,  /* Uuid */
	"action" TEXT,  /* String */
	"table_ids" uuid[]  /* :: std :: option :: Option < Vec < Uuid > > */
)
VOLATILE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'retire_table_at_wrapper';

-- pg_autoassign::api::lifecycle::autoassign_sweep
CREATE  FUNCTION "autoassign_sweep"(
	"max_bookings" INT DEFAULT 200, /* Option < i32 > */
	"time_budget_ms" INT DEFAULT 2000, /* Option < i32 > */
	"restaurant_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"now" timestamp with time zone DEFAULT NULL /* Option < TimestampWithTimeZone > */
) RETURNS TABLE (
	"processed" INT,  /* i32 */
	"confirmed" INT,  /* i32 */
	"deferred" INT,  /* i32 */
	"gave_up" INT,  /* i32 */
	"cutoff" INT  /* i32 */
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_sweep_wrapper';

-- pg_autoassign::api::lifecycle::booking_plan_problem
CREATE  FUNCTION "booking_plan_problem"(
	"booking_id" uuid /* Option < Uuid > */
) RETURNS TEXT /* Option < String > */
STABLE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'booking_plan_problem_wrapper';

-- pg_autoassign::api::lifecycle::replan_booking
CREATE  FUNCTION "replan_booking"(
	"booking_id" uuid, /* Option < Uuid > */
	"source" TEXT DEFAULT 'sql' /* Option < & str > */
) RETURNS TEXT /* String */
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'replan_booking_wrapper';

-- pg_autoassign::api::stats::autoassign_floor_cache_stats
CREATE  FUNCTION "autoassign_floor_cache_stats"() RETURNS TABLE (
	"floors" bigint,  /* i64 */
	"capacity" bigint,  /* i64 */
	"hits" bigint,  /* i64 */
	"misses" bigint  /* i64 */
)
STRICT VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_floor_cache_stats_wrapper';

-------------------------------------------------------------------------------------------
-- 8. SQL-level API on top of them (sql/api.sql).

-- Takes a table out of service from a time, re-planning the bookings that hold it
-- (src/assign/lifecycle.rs): one row per booking, action moved (table_ids = its new
-- tables) or unassigned (back to pending, queued, restaurant told via the outbox).
CREATE FUNCTION autoassign_retire_table(table_id uuid, "from" timestamptz DEFAULT now())
RETURNS TABLE (booking_id uuid, action text, table_ids uuid[])
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM autoassign.autoassign_retire_table_at(table_id, "from")
$$;
COMMENT ON FUNCTION autoassign_retire_table(uuid, timestamptz) IS
    'Takes a table out of service from a time (clamped to now): re-plans the confirmed bookings holding it onto other tables, or un-assigns and queues them; refuses while a seated party holds it.';

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

-- Keeps restaurants.longest_stay_minutes: written only when a stay is longer than any
-- before, so the restaurant row is rarely touched.
CREATE FUNCTION bookings_longest_stay() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.end_at IS NOT NULL THEN
        UPDATE autoassign.restaurants r
           SET longest_stay_minutes = ceil(extract(epoch FROM NEW.end_at - NEW.start_at) / 60)::int
         WHERE r.id = NEW.restaurant_id
           AND r.longest_stay_minutes < ceil(extract(epoch FROM NEW.end_at - NEW.start_at) / 60);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_longest_stay AFTER INSERT OR UPDATE OF start_at, end_at ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_longest_stay();

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
