-- SQL-level parts of the API that need the Rust functions first.

-- SPEC §3 names the window arguments "from" and "to" (reserved words, hence quoted).
CREATE FUNCTION autoassign_free_capacity(restaurant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (zone_id uuid, zone text, free_tables int, free_seats bigint, largest_free_table int)
LANGUAGE sql STABLE AS $$
    SELECT * FROM autoassign.autoassign_free_capacity_ts(restaurant_id, "from", "to")
$$;

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

-- Rollback-proof planner statistics (shared memory; needs shared_preload_libraries).
CREATE VIEW stats AS SELECT * FROM autoassign.autoassign_stats();
COMMENT ON VIEW stats IS
    'Planner calls per restaurant, source and reason from shared memory: survives rollbacks; reset with autoassign_stats_reset().';
