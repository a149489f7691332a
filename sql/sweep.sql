-- Retry sweep (SPEC §8): a policy per reason class, a queue of the bookings that need a
-- retry, wake-ups when capacity frees, and pg_cron registration. autoassign_sweep()
-- itself is Rust (src/assign/sweep.rs): a thin loop over autoassign_planner::retry that
-- confirms due bookings through the same code path the API uses (source 'job').

CREATE TABLE retry_policy (
    class text PRIMARY KEY CHECK (class IN ('hard', 'capacity', 'transient')),
    max_attempts int NOT NULL CHECK (max_attempts >= 0),
    base_delay interval NOT NULL,
    max_delay interval NOT NULL,
    jitter float8 NOT NULL DEFAULT 0.2 CHECK (jitter >= 0 AND jitter <= 1),
    -- after a timeout, the next attempt may allow one more table (recorded in events)
    relax_after_timeout bool NOT NULL DEFAULT false,
    -- capacity only: how many bookings may wait for freed capacity in overlapping stays
    -- of one restaurant, so a failure behind a full waiting list gets its gave_up
    -- summary at once instead of waiting for the cutoff. A freed table seats one of
    -- them, and cancellations come from the bookings seated in that window: the list
    -- holds ceil(waiting_per_seated * seated) bookings (at least 1), at most
    -- max_waiting. NULL in both: no limit.
    max_waiting int CHECK (max_waiting >= 0),
    waiting_per_seated float8 CHECK (waiting_per_seated >= 0)
);
INSERT INTO retry_policy (class, max_attempts, base_delay, max_delay, jitter, relax_after_timeout,
                          max_waiting, waiting_per_seated) VALUES
    ('hard', 0, '0', '0', 0, false, NULL, NULL),
    -- lost races and timeouts clear up quickly: retry soon, back off, stop after 5
    ('transient', 5, '10 seconds', '5 minutes', 0.2, true, NULL, NULL),
    -- no capacity: wait for a wake-up (cancel, shorter stay, floor edit); the timer is
    -- only a slow backstop. One waiting booking per 25 seated, at most 2 (chosen with the
    -- simulator: tasks/sweep-20261128-1200/simulation.md).
    ('capacity', 4, '30 minutes', '2 hours', 0.1, false, 2, 0.04);
SELECT pg_catalog.pg_extension_config_dump('retry_policy', '');

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

-- Freed capacity wakes exactly the queued capacity-class bookings of the same
-- restaurant whose stay overlaps the freed window.
-- Rows a running sweep holds are skipped (SKIP LOCKED): that sweep is handling them,
-- and a cancel must never wait for a sweep.
CREATE FUNCTION wake_overlapping(p_restaurant uuid, p_freed tstzrange) RETURNS int
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

CREATE FUNCTION allocations_freed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- a deleted allocation frees its window; a moved or shrunk one frees only what it
    -- gave up (before its new start, after its new end)
    IF TG_OP = 'DELETE' OR NOT (NEW.during && OLD.during) THEN
        PERFORM autoassign.wake_overlapping(OLD.restaurant_id, OLD.during);
    ELSE
        IF lower(NEW.during) > lower(OLD.during) THEN
            PERFORM autoassign.wake_overlapping(OLD.restaurant_id,
                tstzrange(lower(OLD.during), lower(NEW.during)));
        END IF;
        IF upper(NEW.during) < upper(OLD.during) THEN
            PERFORM autoassign.wake_overlapping(OLD.restaurant_id,
                tstzrange(upper(NEW.during), upper(OLD.during)));
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER allocations_freed AFTER DELETE OR UPDATE OF during ON allocations
    FOR EACH ROW EXECUTE FUNCTION allocations_freed();

-- A floor edit can change what fits at any time: wake every capacity-class booking.
CREATE FUNCTION floor_changed_wake() RETURNS trigger
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
CREATE TRIGGER tables_wake AFTER INSERT OR UPDATE OR DELETE ON tables
    FOR EACH ROW EXECUTE FUNCTION floor_changed_wake();
CREATE TRIGGER table_adjacency_wake AFTER INSERT OR UPDATE OR DELETE ON table_adjacency
    FOR EACH ROW EXECUTE FUNCTION floor_changed_wake();

-- pg_cron registration. pg_cron is optional: without it, call autoassign_sweep() from
-- any scheduler. pg_cron runs in one database (cron.database_name, usually postgres on
-- managed services); from any other database the job must be created there with
-- cron.schedule_in_database, and the error's hint gives the exact statement.
CREATE FUNCTION autoassign_schedule_sweep(schedule text DEFAULT '* * * * *') RETURNS bigint
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

CREATE FUNCTION autoassign_unschedule_sweep() RETURNS bool
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
