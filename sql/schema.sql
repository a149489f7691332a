-- pg_autoassign schema v0.3.0 (SPEC §2). Loaded first by extension_sql_file!.
-- Every table carries restaurant_id, and every primary key, unique, foreign-key and
-- exclusion constraint on tenant data includes it, so the schema can later be
-- distributed by restaurant_id (SPEC §9; pgrx-tests/sql/catalog.sql checks it). Lookups by a bare
-- id (the API takes booking_id alone) use plain, non-unique indexes on id.

-- While this script runs, CREATE EXTENSION puts the schemas of required extensions on the
-- search_path (btree_gist's: usually public). An operator or function a hostile role
-- planted there would bind, for ever, into a CHECK, default, index or policy written
-- here, and run as the installer. From here on nothing outside our schema and pg_catalog
-- is ever looked up (pgrx-tests/sql/install_shadows.sql plants them first to prove it).
-- LOCAL: at the same nesting level as CREATE EXTENSION's own saved path, so the caller's
-- search_path comes back when the script ends.
SET LOCAL search_path = autoassign, pg_catalog, pg_temp;

-- A floor edit takes a fresh value from this sequence. Sequences never roll back, so a
-- backend's cached floor keyed by (restaurant, floor_version) can never be stale.
CREATE SEQUENCE floor_version_seq;

CREATE TABLE restaurants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    timezone text NOT NULL DEFAULT 'UTC',
    buffer_after_minutes int NOT NULL DEFAULT 5 CHECK (buffer_after_minutes >= 0),
    default_duration_minutes int NOT NULL DEFAULT 90 CHECK (default_duration_minutes > 0),
    cutoff_minutes int NOT NULL DEFAULT 10 CHECK (cutoff_minutes >= 0),
    floor_version bigint NOT NULL DEFAULT nextval('floor_version_seq'),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- the longest stay any booking of this restaurant has had, in minutes (only grows;
    -- bookings_longest_stay keeps it): the lookahead reads pending bookings from
    -- start - longest stay, so a stay that began earlier and still overlaps is seen
    longest_stay_minutes int NOT NULL DEFAULT 0
);

CREATE TABLE zones (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
    name text NOT NULL,
    PRIMARY KEY (restaurant_id, id),
    UNIQUE (restaurant_id, name)
);

CREATE TABLE tables (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
    zone_id uuid NOT NULL,
    name text NOT NULL,
    capacity int NOT NULL CONSTRAINT tables_capacity_positive CHECK (capacity > 0),
    min_party int NOT NULL DEFAULT 1 CONSTRAINT tables_min_party_positive CHECK (min_party > 0),
    max_party int NULL, -- NULL = capacity
    active bool NOT NULL DEFAULT true,
    combinable bool NOT NULL DEFAULT true,
    priority int NOT NULL DEFAULT 0, -- higher = preferred
    CONSTRAINT tables_party_range CHECK (min_party <= coalesce(max_party, capacity)),
    PRIMARY KEY (restaurant_id, id),
    UNIQUE (restaurant_id, name),
    -- the composite key keeps a table inside its own restaurant's zone
    FOREIGN KEY (restaurant_id, zone_id) REFERENCES zones (restaurant_id, id) ON DELETE CASCADE,
    -- out of service from this time on (autoassign_retire_table); NULL = in service
    retired_from timestamptz NULL
);
CREATE INDEX tables_zone ON tables (restaurant_id, zone_id);
CREATE INDEX tables_id ON tables (id);
-- the planner's busy intervals include retired tables: usually none, found at once
CREATE INDEX tables_retired ON tables (restaurant_id, retired_from) WHERE retired_from IS NOT NULL;

-- Undirected: rows are stored with table_a < table_b (a trigger swaps), so (b,a) after
-- (a,b) hits the primary key instead of creating a second edge.
CREATE TABLE table_adjacency (
    restaurant_id uuid NOT NULL,
    table_a uuid NOT NULL,
    table_b uuid NOT NULL,
    PRIMARY KEY (restaurant_id, table_a, table_b),
    CONSTRAINT table_adjacency_not_self CHECK (table_a <> table_b),
    CONSTRAINT table_adjacency_ordered CHECK (table_a < table_b),
    FOREIGN KEY (restaurant_id, table_a) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (restaurant_id, table_b) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE
);
CREATE INDEX table_adjacency_b ON table_adjacency (restaurant_id, table_b);

CREATE FUNCTION table_adjacency_normalize() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    swap uuid;
BEGIN
    IF NEW.table_a > NEW.table_b THEN
        swap := NEW.table_a;
        NEW.table_a := NEW.table_b;
        NEW.table_b := swap;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER table_adjacency_normalize BEFORE INSERT OR UPDATE ON table_adjacency
    FOR EACH ROW EXECUTE FUNCTION table_adjacency_normalize();

-- Any write to the floor gives the restaurant a new floor_version (cache key).
CREATE FUNCTION bump_floor_version() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE autoassign.restaurants SET floor_version = nextval('autoassign.floor_version_seq')
         WHERE id = OLD.restaurant_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE autoassign.restaurants SET floor_version = nextval('autoassign.floor_version_seq')
         WHERE id = NEW.restaurant_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER zones_floor_version AFTER INSERT OR UPDATE OR DELETE ON zones
    FOR EACH ROW EXECUTE FUNCTION bump_floor_version();
CREATE TRIGGER tables_floor_version AFTER INSERT OR UPDATE OR DELETE ON tables
    FOR EACH ROW EXECUTE FUNCTION bump_floor_version();
CREATE TRIGGER table_adjacency_floor_version AFTER INSERT OR UPDATE OR DELETE ON table_adjacency
    FOR EACH ROW EXECUTE FUNCTION bump_floor_version();

CREATE TABLE bookings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid NOT NULL REFERENCES restaurants (id) ON DELETE CASCADE,
    party_size int NOT NULL CONSTRAINT bookings_party_positive CHECK (party_size > 0),
    start_at timestamptz NOT NULL,
    end_at timestamptz NULL, -- NULL = start_at + default_duration_minutes
    status text NOT NULL DEFAULT 'pending' CONSTRAINT bookings_status_known
        CHECK (status IN ('pending', 'confirmed', 'seated', 'completed', 'cancelled', 'no_show')),
    zone_id uuid NULL, -- requested zone: a preference
    auto_assign_last_result jsonb NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_end_after_start CHECK (end_at IS NULL OR end_at > start_at),
    PRIMARY KEY (restaurant_id, id),
    FOREIGN KEY (restaurant_id, zone_id) REFERENCES zones (restaurant_id, id)
        ON DELETE SET NULL (zone_id),
    -- The auto-assign outcome and when it settled (SPEC "Lifecycle"): set once per
    -- round by a guarded update of this row, which is what makes the summary event
    -- exactly-once. NULL while auto-assign still works on the booking.
    auto_assign_outcome text NULL CONSTRAINT bookings_outcome_known
        CHECK (auto_assign_outcome IN ('confirmed', 'gave_up', 'cutoff', 'cancelled')),
    auto_assign_settled_at timestamptz NULL
);
-- The sweep and the lookahead read the bookings still waiting for auto-assign, of one
-- restaurant, in (start_at, id) order: with id in the key the lookahead's
-- "ORDER BY start_at, id LIMIT 64" stops after 64 index entries instead of sorting every
-- pending booking of the window (measured: 1,083 rows read for 64 on a 2,000-booking
-- evening). Settled (given up, cut off) bookings leave this index.
CREATE INDEX bookings_pending ON bookings (restaurant_id, start_at, id)
    WHERE status = 'pending' AND auto_assign_outcome IS NULL;
CREATE INDEX bookings_start ON bookings (restaurant_id, start_at);
CREATE INDEX bookings_id ON bookings (id);

-- One row per table per assigned booking; during = [start, end + buffer_after).
CREATE TABLE allocations (
    id bigint GENERATED ALWAYS AS IDENTITY,
    restaurant_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    table_id uuid NOT NULL,
    during tstzrange NOT NULL CONSTRAINT allocations_during_bounded
        CHECK (NOT isempty(during) AND NOT lower_inf(during) AND NOT upper_inf(during)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (restaurant_id, id),
    UNIQUE (restaurant_id, booking_id, table_id),
    FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE,
    -- checked at commit: deleting a restaurant removes its bookings (and so their
    -- allocations) in the same statement that removes its tables; deleting a table that
    -- allocations still name is refused at commit
    FOREIGN KEY (restaurant_id, table_id) REFERENCES tables (restaurant_id, id)
        DEFERRABLE INITIALLY DEFERRED,
    -- No double booking, whatever path writes the row. Its GiST index also serves the
    -- planner's "busy intervals of this restaurant in this window" query.
    CONSTRAINT allocations_no_overlap
        EXCLUDE USING gist (restaurant_id WITH =, table_id WITH =, during WITH &&)
);
CREATE INDEX allocations_booking ON allocations (booking_id);

-- Short-lived holds placed by autoassign_quote(hold_seconds > 0). Expired holds are
-- ignored by every reader, so they need no cleanup to stop blocking.
CREATE TABLE holds (
    id bigint GENERATED ALWAYS AS IDENTITY,
    restaurant_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    table_id uuid NOT NULL,
    during tstzrange NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (restaurant_id, id),
    FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (restaurant_id, table_id) REFERENCES tables (restaurant_id, id) ON DELETE CASCADE
);
CREATE INDEX holds_window ON holds USING gist (restaurant_id, during);
CREATE INDEX holds_booking ON holds (booking_id);

-- Telemetry (SPEC §6). Write-only: nothing reads it to decide anything, so it can be
-- pruned, sampled or partitioned at will. No foreign keys: the story of a booking
-- outlives the booking. Not tenant data in the SPEC §9 sense (a call for an unknown
-- booking has no restaurant), so its key is a plain id.
-- The value checks live in domains: their compiled checks are cached per backend, where a
-- table CHECK is re-read and re-compiled for every INSERT (measured: 17 vs 13 us a row).
CREATE DOMAIN event_kind AS text CONSTRAINT event_kind_known CHECK (VALUE IN (
    'auto_assign.quote', 'auto_assign.attempt', 'auto_assign.summary', 'auto_assign.timeout',
    'booking.lifecycle'));
CREATE DOMAIN event_source AS text CONSTRAINT event_source_format CHECK (VALUE ~ '^[a-z_]{1,32}$');

CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event_type event_kind NOT NULL,
    restaurant_id uuid,
    booking_id uuid,
    source event_source NOT NULL,
    success bool,
    reason text,
    duration_us bigint,
    attempt int,
    strategy jsonb,
    payload jsonb
);
CREATE INDEX events_restaurant_at ON events (restaurant_id, at);
CREATE INDEX events_booking ON events (booking_id, id);

-- Outbox (SPEC §7): one message per booking for the one-off kinds (booking_confirmed,
-- auto_assign_gave_up), whoever causes it; tables_changed and tables_lost may repeat.
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY,
    restaurant_id uuid NOT NULL,
    booking_id uuid NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz NULL,
    PRIMARY KEY (restaurant_id, id),
    FOREIGN KEY (restaurant_id, booking_id) REFERENCES bookings (restaurant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX outbox_once ON outbox (restaurant_id, booking_id, kind)
    WHERE kind IN ('booking_confirmed', 'auto_assign_gave_up');
CREATE INDEX outbox_unsent ON outbox (created_at) WHERE sent_at IS NULL;

-- When a booking releases its tables: end (or start + default duration) + turnover
-- buffer. Scalar arguments keep it inlinable in hot queries (a whole-row argument
-- would build a composite datum per row).
CREATE FUNCTION stay_end(start_at timestamptz, end_at timestamptz,
                         default_duration_minutes int, buffer_after_minutes int) RETURNS timestamptz
-- STABLE, like timestamptz + interval itself: a function declared IMMUTABLE over a STABLE
-- body is never inlined
-- Every name is schema-qualified (and no SET search_path, which would stop inlining):
-- inlined into a caller's query, the body resolves nothing through the caller's path.
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(end_at, start_at OPERATOR(pg_catalog.+)
                            pg_catalog.make_interval(mins => default_duration_minutes))
           OPERATOR(pg_catalog.+) pg_catalog.make_interval(mins => buffer_after_minutes)
$$;

-- The window a booking blocks its tables for: [start, end + turnover buffer).
CREATE FUNCTION stay_range(b bookings, r restaurants) RETURNS tstzrange
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.tstzrange(b.start_at,
                     autoassign.stay_end(b.start_at, b.end_at, r.default_duration_minutes, r.buffer_after_minutes))
$$;

-- clock_now() (now(), unless the superuser-only autoassign.simulated_now is set) is a Rust
-- function (src/api/clock.rs): calling it loads the library, which defines the setting as
-- superuser-only before any value a non-superuser set as a placeholder can be read.

-- pg_dump skips an extension's member tables unless they are registered here; with these,
-- a restaurant's ordinary backup holds its floor, bookings, allocations, holds, outbox and
-- telemetry, and the identity and floor-version sequences continue where they were.
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

