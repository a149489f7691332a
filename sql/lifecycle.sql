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
