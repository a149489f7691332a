-- Retry sweep (SPEC §8): a queue row per pending booking, a policy per reason class,
-- wake-ups when capacity frees, and autoassign_sweep() that confirms due bookings
-- through the same autoassign_confirm the API uses (source 'job').

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

CREATE TABLE retry_queue (
    booking_id uuid PRIMARY KEY,
    restaurant_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    attempts_hard int NOT NULL DEFAULT 0,
    attempts_transient int NOT NULL DEFAULT 0,
    attempts_capacity int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_reason text,
    last_class text CHECK (last_class IN ('hard', 'capacity', 'transient')),
    wake bool NOT NULL DEFAULT false,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE
);
CREATE INDEX retry_queue_due ON retry_queue (next_attempt_at, start_at);
CREATE INDEX retry_queue_woken ON retry_queue (start_at) WHERE wake;
CREATE INDEX retry_queue_restaurant ON retry_queue (restaurant_id, start_at);

-- Seconds to wait before attempt n+1 of a class: base * 2^(n-1), capped, with jitter.
CREATE FUNCTION retry_delay(p_class text, p_attempts int) RETURNS interval
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN (SELECT least(p.max_delay, p.base_delay * power(2, greatest(p_attempts - 1, 0)))
                   * (1 + p.jitter * (random() * 2 - 1))
              FROM autoassign.retry_policy p WHERE p.class = p_class);
END $$;

-- A new pending booking is queued in its own transaction. The first sweep attempt
-- waits a little: the inline confirm usually settles it first.
CREATE FUNCTION retry_enqueue() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.status = 'pending' THEN
        INSERT INTO autoassign.retry_queue (booking_id, restaurant_id, start_at, next_attempt_at)
        VALUES (NEW.id, NEW.restaurant_id, NEW.start_at, autoassign.clock_now() + interval '30 seconds')
        ON CONFLICT (booking_id) DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_retry_enqueue AFTER INSERT ON bookings
    FOR EACH ROW EXECUTE FUNCTION retry_enqueue();

-- A confirmed booking whose stay changes moves its allocations with it (a shorter stay
-- frees capacity, which wakes others). Queue rows of bookings that left pending are
-- removed by the sweep, not here: API transactions never wait on a sweep's row locks.
CREATE FUNCTION booking_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.status = 'confirmed' AND (NEW.start_at, NEW.end_at) IS DISTINCT FROM (OLD.start_at, OLD.end_at) THEN
        UPDATE autoassign.allocations a SET during = autoassign.stay_range(NEW, r)
          FROM autoassign.restaurants r
         WHERE a.booking_id = NEW.id AND r.id = NEW.restaurant_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bookings_changed AFTER UPDATE OF start_at, end_at ON bookings
    FOR EACH ROW EXECUTE FUNCTION booking_changed();

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
          JOIN autoassign.bookings b ON b.id = q.booking_id
          JOIN autoassign.restaurants r ON r.id = b.restaurant_id
         WHERE q.restaurant_id = p_restaurant
           AND q.last_class = 'capacity' AND NOT q.wake
           AND tstzrange(b.start_at, autoassign.stay_end(b.start_at, b.end_at,
                                                         r.default_duration_minutes, r.buffer_after_minutes))
               && p_freed
           FOR UPDATE OF q SKIP LOCKED
    )
    UPDATE autoassign.retry_queue q SET wake = true, updated_at = now()
      FROM candidates c WHERE q.booking_id = c.booking_id;
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
     WHERE booking_id IN (
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

-- A queued booking reaches its outcome (gave_up or cutoff): its one summary, with the
-- attempts by class, and the queue row goes.
CREATE FUNCTION finish_queued(p_booking uuid, p_source text, p_outcome text, p_extra jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    q record;
BEGIN
    DELETE FROM autoassign.retry_queue WHERE booking_id = p_booking RETURNING * INTO q;
    IF FOUND THEN
        PERFORM autoassign.write_summary(q.restaurant_id, q.booking_id, p_source, p_outcome, q.last_reason,
            q.attempts_hard + q.attempts_transient + q.attempts_capacity,
            p_extra || jsonb_build_object('final_class', q.last_class,
                'attempts_by_class', jsonb_build_object('hard', q.attempts_hard,
                    'transient', q.attempts_transient, 'capacity', q.attempts_capacity)));
    END IF;
END $$;

-- Called by every failed confirm (inline, api, job, ops): counts the attempt against
-- its class and schedules the next one. A row another sweep holds is left to it.
-- Returns the outcome when the failure settles the booking at once: a hard reason is
-- never retried, and a capacity failure behind a full waiting list is hopeless
-- (retry_policy.max_waiting, waiting_per_seated); NULL while it stays queued.
CREATE FUNCTION retry_after_failure(p_booking uuid, p_reason text, p_class text, p_source text DEFAULT 'job')
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n int;
    was_waiting bool;
    stay tstzrange;
    rest uuid;
    waiting int;
    seated int;
    lim int;
BEGIN
    INSERT INTO autoassign.retry_queue AS q (booking_id, restaurant_id, start_at, next_attempt_at)
    SELECT b.id, b.restaurant_id, b.start_at, autoassign.clock_now()
      FROM autoassign.bookings b WHERE b.id = p_booking AND b.status = 'pending'
    ON CONFLICT (booking_id) DO NOTHING;

    SELECT q.last_class = 'capacity' INTO was_waiting
      FROM autoassign.retry_queue q WHERE q.booking_id = p_booking FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL; -- not pending, or a sweep holds it
    END IF;
    UPDATE autoassign.retry_queue q SET
        attempts_hard = attempts_hard + (p_class = 'hard')::int,
        attempts_transient = attempts_transient + (p_class = 'transient')::int,
        -- an attempt after a wake-up is free: only one of the woken can take the freed
        -- table, and the others should not lose their budget for trying
        attempts_capacity = attempts_capacity + (p_class = 'capacity' AND NOT q.wake)::int,
        last_reason = p_reason,
        last_class = p_class,
        wake = false,
        updated_at = now()
     WHERE q.booking_id = p_booking
    RETURNING CASE p_class WHEN 'hard' THEN attempts_hard
                           WHEN 'transient' THEN attempts_transient
                           ELSE attempts_capacity END INTO n;

    IF p_class = 'hard' THEN
        -- never retried, so the outcome is known now: no sweep needed for the summary
        PERFORM autoassign.finish_queued(p_booking, p_source,
            CASE WHEN p_reason = 'past_cutoff' THEN 'cutoff' ELSE 'gave_up' END);
        RETURN CASE WHEN p_reason = 'past_cutoff' THEN 'cutoff' ELSE 'gave_up' END;
    END IF;

    IF p_class = 'capacity' AND NOT coalesce(was_waiting, false) THEN
        SELECT b.restaurant_id, autoassign.stay_range(b, r) INTO rest, stay
          FROM autoassign.bookings b JOIN autoassign.restaurants r ON r.id = b.restaurant_id
         WHERE b.id = p_booking;
        SELECT count(DISTINCT a.booking_id) INTO seated
          FROM autoassign.allocations a WHERE a.restaurant_id = rest AND a.during && stay;
        -- least() skips NULLs: either knob alone is a limit; at least one may wait
        SELECT least(p.max_waiting,
                     CASE WHEN p.waiting_per_seated IS NOT NULL
                          THEN greatest(1, ceil(p.waiting_per_seated * seated)::int) END)
          INTO lim FROM autoassign.retry_policy p WHERE p.class = 'capacity';
        IF lim IS NOT NULL THEN
            SELECT count(*) INTO waiting
              FROM autoassign.retry_queue q
              JOIN autoassign.bookings b ON b.id = q.booking_id
              JOIN autoassign.restaurants r ON r.id = b.restaurant_id
             WHERE q.restaurant_id = rest AND q.booking_id <> p_booking
               AND q.last_class = 'capacity' AND b.status = 'pending'
               AND autoassign.stay_range(b, r) && stay;
            IF waiting >= lim THEN
                PERFORM autoassign.finish_queued(p_booking, p_source, 'gave_up',
                    jsonb_build_object('waiting_list', jsonb_build_object(
                        'waiting', waiting, 'limit', lim, 'seated', seated)));
                RETURN 'gave_up';
            END IF;
        END IF;
    END IF;

    UPDATE autoassign.retry_queue
       SET next_attempt_at = autoassign.clock_now() + autoassign.retry_delay(p_class, n)
     WHERE booking_id = p_booking;
    RETURN NULL;
END $$;

-- One pass of the retry policy. Takes due or woken bookings with SKIP LOCKED, earliest
-- service first, so concurrent sweeps never process the same booking. All of it runs
-- in the caller's transaction: a sweep killed half-way leaves nothing behind.
CREATE FUNCTION autoassign_sweep(
    max_bookings int DEFAULT 200,
    time_budget_ms int DEFAULT 2000,
    now timestamptz DEFAULT NULL
) RETURNS TABLE (processed int, confirmed int, deferred int, gave_up int, cutoff int)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    started timestamptz := clock_timestamp();
    q record;
    b record;
    p record;
    c record;
    strat jsonb;
    attempts int;
    outcome text;
    done uuid[] := '{}';
    woken bool;
    bid uuid;
BEGIN
    IF max_bookings IS NULL OR time_budget_ms IS NULL THEN
        RAISE EXCEPTION 'max_bookings and time_budget_ms must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit them to use the defaults (200, 2000).';
    END IF;
    IF max_bookings < 1 OR time_budget_ms < 1 THEN
        RAISE EXCEPTION 'max_bookings and time_budget_ms must be positive'
            USING ERRCODE = '22023', HINT = 'For example autoassign_sweep(100, 1000).';
    END IF;
    IF now IS NOT NULL THEN
        -- simulated time for this transaction (tests and the simulator)
        PERFORM set_config('autoassign.simulated_now', now::text, true);
    END IF;
    processed := 0; confirmed := 0; deferred := 0; gave_up := 0; cutoff := 0;
    -- queue rows of bookings that left pending (confirmed, cancelled, ...) go now
    DELETE FROM autoassign.retry_queue gone
     WHERE gone.booking_id IN (
        SELECT rq.booking_id FROM autoassign.retry_queue rq
          JOIN autoassign.bookings bk ON bk.id = rq.booking_id
         WHERE bk.status <> 'pending'
         LIMIT 1000
           FOR UPDATE OF rq SKIP LOCKED);

    WHILE processed < max_bookings
          AND clock_timestamp() - started < make_interval(secs => time_budget_ms / 1000.0) LOOP
        -- the queue row and the booking row, both or neither: a booking that an API
        -- call is confirming right now is skipped, never waited for
        SELECT rq.* INTO q
          FROM autoassign.retry_queue rq
          JOIN autoassign.bookings bk ON bk.id = rq.booking_id
          JOIN autoassign.restaurants rs ON rs.id = bk.restaurant_id
         WHERE (rq.next_attempt_at <= autoassign.clock_now() OR rq.wake
                -- reaching the cutoff is an outcome: don't wait for the timer
                OR bk.start_at - make_interval(mins => rs.cutoff_minutes) <= autoassign.clock_now())
           AND bk.status = 'pending'
           AND rq.booking_id <> ALL (done)
         ORDER BY bk.start_at, rq.booking_id
         LIMIT 1
         FOR UPDATE OF rq, bk SKIP LOCKED;
        EXIT WHEN NOT FOUND;
        done := done || q.booking_id;
        bid := q.booking_id;
        processed := processed + 1;

        SELECT bk.status, bk.start_at, bk.party_size, r.cutoff_minutes,
               bk.auto_assign_last_result AS last, autoassign.stay_range(bk, r) AS stay
          INTO b
          FROM autoassign.bookings bk JOIN autoassign.restaurants r ON r.id = bk.restaurant_id
         WHERE bk.id = q.booking_id;
        IF NOT FOUND OR b.status <> 'pending' THEN
            DELETE FROM autoassign.retry_queue WHERE booking_id = q.booking_id;
            CONTINUE;
        END IF;

        outcome := NULL;
        woken := q.wake;
        SELECT * INTO p FROM autoassign.retry_policy WHERE class = q.last_class;
        attempts := CASE q.last_class WHEN 'hard' THEN q.attempts_hard
                                      WHEN 'transient' THEN q.attempts_transient
                                      ELSE q.attempts_capacity END;
        IF b.start_at - make_interval(mins => b.cutoff_minutes) <= autoassign.clock_now() THEN
            outcome := 'cutoff';
        ELSIF FOUND AND NOT woken AND attempts >= p.max_attempts THEN
            -- the class budget is spent and nothing changed (hard failures never get
            -- here: retry_after_failure settles them)
            outcome := 'gave_up';
        END IF;

        -- A capacity failure is re-planned only if some zone now has enough free seats
        -- for the whole stay: a cheap check (no planner run, no event) that keeps
        -- futile wake-ups and backstop timers from costing planner calls. Skipped when a
        -- table may seat more than its capacity (max_party > capacity).
        IF outcome IS NULL AND q.last_class = 'capacity' AND NOT EXISTS (
               SELECT 1 FROM autoassign.tables t
                WHERE t.restaurant_id = q.restaurant_id AND t.max_party > t.capacity)
           AND coalesce((SELECT max(f.free_seats)
                           FROM autoassign.autoassign_free_capacity(q.restaurant_id, lower(b.stay), upper(b.stay)) f), 0)
               < b.party_size THEN
            UPDATE autoassign.retry_queue
               SET wake = false, updated_at = now(),
                   next_attempt_at = greatest(next_attempt_at,
                       autoassign.clock_now() + autoassign.retry_delay('capacity', greatest(attempts, 1)))
             WHERE booking_id = q.booking_id;
            deferred := deferred + 1;
            CONTINUE;
        END IF;

        IF outcome IS NULL THEN
            strat := '{}';
            IF q.last_reason = 'timeout' AND (SELECT relax_after_timeout FROM autoassign.retry_policy WHERE class = 'transient') THEN
                strat := jsonb_build_object(
                    'max_tables', least(6, coalesce((b.last->'strategy'->>'max_tables')::int, 3) + 1),
                    'relaxed', 'after timeout: max_tables + 1 (retry_policy.relax_after_timeout)');
            END IF;
            SELECT * INTO c FROM autoassign.autoassign_confirm(q.booking_id, strat, 'job');
            IF c.ok THEN
                confirmed := confirmed + 1;
                DELETE FROM autoassign.retry_queue WHERE booking_id = q.booking_id;
                CONTINUE;
            END IF;
            -- the failed confirm already counted the attempt (retry_after_failure)
            SELECT * INTO q FROM autoassign.retry_queue WHERE booking_id = q.booking_id;
            IF NOT FOUND THEN
                -- settled by the failure itself (hard reason, full waiting list)
                SELECT e.reason INTO outcome FROM autoassign.events e
                 WHERE e.booking_id = bid AND e.event_type = 'auto_assign.summary';
                IF outcome = 'cutoff' THEN cutoff := cutoff + 1;
                ELSIF outcome = 'gave_up' THEN gave_up := gave_up + 1;
                END IF;
                CONTINUE;
            END IF;
            SELECT * INTO p FROM autoassign.retry_policy WHERE class = q.last_class;
            attempts := CASE q.last_class WHEN 'hard' THEN q.attempts_hard
                                          WHEN 'transient' THEN q.attempts_transient
                                          ELSE q.attempts_capacity END;
            IF attempts >= p.max_attempts AND NOT (woken AND q.last_class = 'capacity') THEN
                outcome := 'gave_up';
            ELSE
                deferred := deferred + 1;
                CONTINUE;
            END IF;
        END IF;

        -- the booking's one summary: it gave up or ran out of time
        PERFORM autoassign.finish_queued(q.booking_id, 'job', outcome);
        IF outcome = 'cutoff' THEN cutoff := cutoff + 1; ELSE gave_up := gave_up + 1; END IF;
    END LOOP;
    RETURN NEXT;
END $$;

COMMENT ON FUNCTION autoassign_sweep(int, int, timestamptz) IS
    'One pass of the retry policy: confirms due or woken pending bookings (source job), writes gave_up/cutoff summaries.';

-- pg_cron registration. pg_cron is optional: without it, call autoassign_sweep() from
-- any scheduler.
CREATE FUNCTION autoassign_schedule_sweep(schedule text DEFAULT '* * * * *') RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = '42704',
                  HINT = 'Install postgresql-15-cron, add pg_cron to shared_preload_libraries, '
                      || 'restart, then CREATE EXTENSION pg_cron; or call autoassign.autoassign_sweep() from any scheduler.';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
        USING 'pg_autoassign_sweep', schedule, 'SELECT * FROM autoassign.autoassign_sweep()';
    RETURN job;
END $$;

CREATE FUNCTION autoassign_unschedule_sweep() RETURNS bool
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    done bool := false;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        EXECUTE 'SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1' INTO done
            USING 'pg_autoassign_sweep';
    END IF;
    RETURN coalesce(done, false);
END $$;
