-- Seating (issue 13): pinned bookings, the freeze window, and the guard that keeps
-- them on their tables whatever path writes. Loaded after lifecycle.sql.
--
-- Re-assignment (autoassign_confirm when no plan is free, autoassign_optimize) moves
-- only bookings that are confirmed, not seated, not pinned, and start after
-- now + freeze_minutes. The guard below makes the database refuse any other path that
-- would change the tables of a pinned, seated or frozen booking.

ALTER TABLE bookings ADD COLUMN pinned boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN bookings.pinned IS
    'Pinned to its tables (host''s choice, guest''s request, VIP): never moved by re-assignment or any other path while it holds them.';

ALTER TABLE restaurants ADD COLUMN freeze_minutes int NOT NULL DEFAULT 30
    CONSTRAINT restaurants_freeze_minutes_range CHECK (freeze_minutes BETWEEN 0 AND 1440);
COMMENT ON COLUMN restaurants.freeze_minutes IS
    'A confirmed booking that starts within this many minutes from now keeps its tables: re-assignment never moves it.';

-- Whether a table-holding booking may change tables now: confirmed, not pinned, and
-- starting after now + the restaurant's freeze window. The one definition, used by the
-- guard and by the re-assignment's loads (src/postgres/seating.rs).
CREATE FUNCTION booking_movable(p_status text, p_pinned bool, p_start timestamptz, p_freeze_minutes int)
RETURNS bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    -- every name qualified, no SET clause: it stays inlinable (sql/security.sql)
    SELECT p_status OPERATOR(pg_catalog.=) 'confirmed' AND NOT p_pinned
           AND p_start OPERATOR(pg_catalog.>) (autoassign.clock_now()
               OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => p_freeze_minutes))
$$;

-- BEFORE INSERT / DELETE / UPDATE OF table_id on allocations: a booking that holds
-- tables (confirmed or seated) and is pinned, seated or frozen cannot lose or gain a
-- table. Releasing tables by a status change (cancel, no-show, complete, un-assign)
-- runs after the status changed, so it passes; so does a pending booking's confirm, a
-- stay change (UPDATE OF during), and the past (allocations that ended).
CREATE FUNCTION allocations_keep_seating() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rec record;
    r_id uuid;
    b_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF upper(OLD.during) <= autoassign.clock_now() THEN
            RETURN OLD;
        END IF;
        r_id := OLD.restaurant_id;
        b_id := OLD.booking_id;
    ELSIF TG_OP = 'UPDATE' AND NEW.table_id IS NOT DISTINCT FROM OLD.table_id THEN
        RETURN NEW;
    ELSE
        r_id := NEW.restaurant_id;
        b_id := NEW.booking_id;
    END IF;
    SELECT b.status, b.pinned,
           NOT autoassign.booking_movable(b.status, b.pinned, b.start_at, r.freeze_minutes) AS fixed
      INTO rec
      FROM autoassign.bookings b
      JOIN autoassign.restaurants r ON r.id = b.restaurant_id
     WHERE b.restaurant_id = r_id AND b.id = b_id;
    IF FOUND AND rec.status IN ('confirmed', 'seated') AND rec.fixed THEN
        RAISE EXCEPTION 'booking %: its tables cannot change (%)', b_id,
            CASE WHEN rec.status = 'seated' THEN 'seated'
                 WHEN rec.pinned THEN 'pinned'
                 ELSE 'starts within the restaurant''s freeze window' END
            USING ERRCODE = '23514',
                  HINT = 'Seated, pinned and soon-starting bookings keep their tables. Unpin it '
                      || '(UPDATE autoassign.bookings SET pinned = false), or set it back to pending '
                      || 'so auto-assign plans it again.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER allocations_keep_seating BEFORE INSERT OR DELETE OR UPDATE OF table_id
    ON allocations FOR EACH ROW EXECUTE FUNCTION allocations_keep_seating();

-- The restaurant's party-size mix, for keeping combinations open (planner
-- placement.rs): bookings that got tables in the last 90 days, by party size.
-- bookings_start serves the range scan.
CREATE FUNCTION party_mix(p_restaurant uuid) RETURNS TABLE (party_size int, bookings bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT b.party_size, count(*)
      FROM autoassign.bookings b
     WHERE b.restaurant_id = p_restaurant
       AND b.start_at >= autoassign.clock_now() - interval '90 days'
       AND b.status IN ('confirmed', 'seated', 'completed')
     GROUP BY b.party_size
$$;
