-- SQL-level parts of the API that need the Rust functions first.

-- SPEC §3 names the window arguments "from" and "to" (reserved words, hence quoted).
CREATE FUNCTION autoassign_free_capacity(restaurant_id uuid, "from" timestamptz, "to" timestamptz)
RETURNS TABLE (zone_id uuid, zone text, free_tables int, free_seats bigint, largest_free_table int)
LANGUAGE sql STABLE AS $$
    SELECT * FROM autoassign.autoassign_free_capacity_ts(restaurant_id, "from", "to")
$$;

-- Rollback-proof planner statistics (shared memory; needs shared_preload_libraries).
CREATE VIEW stats AS SELECT * FROM autoassign.autoassign_stats();
COMMENT ON VIEW stats IS
    'Planner calls per restaurant, source and reason from shared memory: survives rollbacks; reset with autoassign_stats_reset().';
