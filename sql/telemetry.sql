-- pg_autoassign telemetry (SPEC §6): dashboard views, a booking's history, batched prune.
-- Loaded after schema.sql with search_path = autoassign; every name is qualified anyway.
--
-- Time buckets are UTC hours/days, computed with an IMMUTABLE expression
--     timezone('UTC', date_trunc('hour', timezone('UTC', at)))
-- rather than date_trunc('hour', at), which follows the session's TimeZone (STABLE). So
--   * every client sees the same buckets whatever its TimeZone setting (a 'day' bucket
--     would otherwise move with the client), and
--   * the bucket can be indexed: "WHERE hour >= X" / "WHERE day = X" on the views is an
--     index range condition instead of a filter over the restaurant's whole history.
-- In a UTC session the value equals date_trunc('hour'/'day', at). The columns are
-- timestamptz (the UTC instant the bucket starts).

-- Quote events by restaurant and UTC hour. Index-only scans for quote_latency: the
-- bucket expression is the key; "at" is included because the planner only considers an
-- index-only scan when every column the query mentions is in the index.
CREATE INDEX events_quote_hour ON autoassign.events
    (restaurant_id, (timezone('UTC', date_trunc('hour', timezone('UTC', at)))))
    INCLUDE (at, source, duration_us)
    WHERE event_type = 'auto_assign.quote';

-- Quote events by restaurant and UTC day, for reason_breakdown.
CREATE INDEX events_quote_day ON autoassign.events
    (restaurant_id, (timezone('UTC', date_trunc('day', timezone('UTC', at)))))
    INCLUDE (at, success, reason)
    WHERE event_type = 'auto_assign.quote';

-- booking_outcomes and autoassign_booking_history need no extra index: summaries are found
-- through events_booking (booking_id, id) filtered on event_type = 'auto_assign.summary', and a
-- booking's events through events_booking (booking_id, id). autoassign_prune_events walks
-- events_restaurant_at (restaurant_id, at).

-------------------------------------------------------------------------------------------

-- Percentiles use percentile_cont (linear interpolation, double precision): 100 quotes
-- of 1..100 us give p50 = 50.5 and p99 = 99.01. percentile_disc would return an observed
-- value (50 and 99) but jumps between samples on small hours; interpolation is the
-- usual choice for latency dashboards. The three percentiles come from one sort.
-- calls counts every quote; percentiles and max ignore quotes without duration_us.
CREATE VIEW autoassign.quote_latency AS
SELECT q.restaurant_id,
       q.source,
       q.hour,
       q.calls,
       q.p[1] AS p50_us,
       q.p[2] AS p95_us,
       q.p[3] AS p99_us,
       q.max_us
  FROM (SELECT e.restaurant_id,
               e.source,
               timezone('UTC', date_trunc('hour', timezone('UTC', e.at))) AS hour,
               count(*) AS calls,
               percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[])
                   WITHIN GROUP (ORDER BY e.duration_us::float8) AS p,
               max(e.duration_us) AS max_us
          FROM autoassign.events e
         WHERE e.event_type = 'auto_assign.quote'
         GROUP BY e.restaurant_id, e.source,
                  timezone('UTC', date_trunc('hour', timezone('UTC', e.at)))) q;

COMMENT ON VIEW autoassign.quote_latency IS
'Planner latency per restaurant, source and UTC hour from auto_assign.quote events: '
'calls (all quotes), p50_us/p95_us/p99_us (percentile_cont, interpolated, double precision; '
'NULL durations ignored), max_us. Filter on restaurant_id and hour to use index events_quote_hour.';

-------------------------------------------------------------------------------------------

-- Share of each reason among a restaurant's quotes of one UTC day. Successful quotes
-- without a reason count as 'ok' (a failed quote without a reason, which the code never
-- writes, would count as 'unknown'). share = calls / day total rounded to 4 decimals;
-- the rounding remainder goes to the day's most frequent reason so that the shares of a
-- restaurant/day sum to exactly 1. Filters on restaurant_id and day are pushed below the
-- window functions (both are their partition keys) and use index events_quote_day.
CREATE VIEW autoassign.reason_breakdown AS
SELECT r.restaurant_id,
       r.day,
       r.reason,
       r.calls,
       r.rounded + CASE WHEN r.rank = 1 THEN 1 - sum(r.rounded) OVER w ELSE 0 END AS share
  FROM (SELECT g.restaurant_id, g.day, g.reason, g.calls,
               round(g.calls::numeric / sum(g.calls) OVER w, 4) AS rounded,
               row_number() OVER (PARTITION BY g.restaurant_id, g.day
                                  ORDER BY g.calls DESC, g.reason) AS rank
          FROM (SELECT e.restaurant_id,
                       timezone('UTC', date_trunc('day', timezone('UTC', e.at))) AS day,
                       coalesce(e.reason, CASE WHEN e.success IS FALSE THEN 'unknown' ELSE 'ok' END)
                           AS reason,
                       count(*) AS calls
                  FROM autoassign.events e
                 WHERE e.event_type = 'auto_assign.quote'
                 GROUP BY 1, 2, 3) g
        WINDOW w AS (PARTITION BY g.restaurant_id, g.day)) r
WINDOW w AS (PARTITION BY r.restaurant_id, r.day);

COMMENT ON VIEW autoassign.reason_breakdown IS
'Reasons of auto_assign.quote events per restaurant and UTC day: reason (''ok'' for successes), '
'calls, share (numeric, 4 decimals, sums to exactly 1 per restaurant/day; the rounding remainder '
'goes to the most frequent reason). Filter on restaurant_id and day to use index events_quote_day.';

-------------------------------------------------------------------------------------------

-- One row per booking with a summary. Counts come from a LATERAL subquery on the
-- booking's events (index events_booking), so "WHERE booking_id = X" reads one summary
-- (index events_booking) and that booking's events only.
CREATE VIEW autoassign.booking_outcomes AS
SELECT s.booking_id,
       s.restaurant_id,
       s.reason AS outcome,
       coalesce(s.payload ->> 'final_reason', s.reason) AS final_reason,
       a.attempts,
       a.quotes,
       a.sources,
       a.first_event_at,
       s.at AS summary_at,
       s.at - a.first_event_at AS time_to_outcome
  FROM autoassign.events s
 CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE e.event_type = 'auto_assign.attempt') AS attempts,
               count(*) FILTER (WHERE e.event_type = 'auto_assign.quote') AS quotes,
               array_agg(DISTINCT e.source ORDER BY e.source) AS sources,
               min(e.at) AS first_event_at
          FROM autoassign.events e
         WHERE e.booking_id = s.booking_id) a
 WHERE s.event_type = 'auto_assign.summary'
   AND s.booking_id IS NOT NULL;

COMMENT ON VIEW autoassign.booking_outcomes IS
'One row per booking with an auto_assign.summary event: outcome (summary reason: confirmed, '
'gave_up, cutoff, cancelled), final_reason (payload final_reason, else the summary reason), '
'attempts and quotes (event counts), sources (sorted distinct sources of all its events), '
'first_event_at, summary_at, time_to_outcome. Filter on booking_id for an index lookup.';

-------------------------------------------------------------------------------------------

-- LANGUAGE sql, STABLE, no SET clause and a single SELECT: the planner inlines it, so a
-- call is planned like the query itself (two index lookups). The parameter is referenced
-- as autoassign_booking_history.booking_id because column names win over parameter names
-- in SQL functions.
CREATE FUNCTION autoassign.autoassign_booking_history(booking_id uuid)
RETURNS TABLE (seq int, at timestamptz, kind text, source text, success bool, reason text,
               attempt int, duration_us bigint, detail jsonb)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (row_number() OVER (ORDER BY h.ord, h.at, h.id))::int AS seq,
           h.at, h.kind, h.source, h.success, h.reason, h.attempt, h.duration_us, h.detail
      FROM (SELECT 0 AS ord, e.id, e.at, e.event_type AS kind, e.source, e.success, e.reason,
                   e.attempt, e.duration_us,
                   jsonb_build_object('event_id', e.id, 'restaurant_id', e.restaurant_id)
                   || CASE WHEN e.strategy IS NULL THEN '{}'::jsonb
                           ELSE jsonb_build_object('strategy', e.strategy) END
                   || CASE WHEN e.payload IS NULL THEN '{}'::jsonb
                           ELSE jsonb_build_object('payload', e.payload) END AS detail
              FROM autoassign.events e
             WHERE e.booking_id = autoassign_booking_history.booking_id
            UNION ALL
            SELECT 1, NULL::bigint, b.updated_at, 'last_result',
                   CASE WHEN jsonb_typeof(r.lr -> 'source') = 'string' THEN r.lr ->> 'source' END,
                   CASE WHEN jsonb_typeof(r.lr -> 'success') = 'boolean'
                        THEN (r.lr ->> 'success')::bool END,
                   CASE WHEN jsonb_typeof(r.lr -> 'reason') = 'string' THEN r.lr ->> 'reason' END,
                   CASE WHEN jsonb_typeof(r.lr -> 'attempt') = 'number'
                        THEN trunc((r.lr ->> 'attempt')::numeric)::int END,
                   CASE WHEN jsonb_typeof(r.lr -> 'duration_us') = 'number'
                        THEN trunc((r.lr ->> 'duration_us')::numeric)::bigint END,
                   r.lr
              FROM autoassign.bookings b
             CROSS JOIN LATERAL (SELECT b.auto_assign_last_result AS lr) r
             WHERE b.id = autoassign_booking_history.booking_id
               AND b.auto_assign_last_result IS NOT NULL) h
     ORDER BY h.ord, h.at, h.id
$$;

COMMENT ON FUNCTION autoassign.autoassign_booking_history(uuid) IS
'The whole auto-assign story of a booking: every event (kind = event_type) ordered by at, id, '
'with detail = {event_id, restaurant_id, strategy?, payload?}; then, if the booking exists and '
'has one, a final row kind = ''last_result'' (at = bookings.updated_at, detail = '
'bookings.auto_assign_last_result, source/success/reason/attempt/duration_us taken from it). '
'seq numbers the rows from 1. Works for deleted bookings too (events have no foreign keys).';

-------------------------------------------------------------------------------------------

-- Batched delete of old events. A function cannot COMMIT, so everything it deletes is
-- one transaction: the caller's. The locks are light: ROW EXCLUSIVE on events (readers
-- and inserts are not blocked) and row locks on old rows nobody else writes (events are
-- append-only); they are held until the caller commits. Callers that want each batch in
-- its own transaction call it repeatedly, one call per transaction, with a small
-- batch_size and max_batches => 1 until it returns less than batch_size (or 0).
--
-- Each batch is "DELETE ... WHERE id IN (SELECT id ... LIMIT batch_size)". Batches walk
-- events_restaurant_at (restaurant_id, at) one restaurant at a time, keyed on the last
-- deleted "at", so a batch never rescans the rows earlier batches of the same call
-- deleted (they stay in the index until vacuum). Restaurants are enumerated with a skip
-- scan of the same index (events without a restaurant are pruned last). A batch never
-- spans two restaurants, so one can hold fewer than batch_size rows while more remain;
-- only max_batches ends a call before everything older than the cutoff is gone.
CREATE FUNCTION autoassign.autoassign_prune_events(
    older_than interval,
    batch_size int DEFAULT 10000,
    max_batches int DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cutoff timestamptz;
    rid uuid;
    last_at timestamptz;
    n bigint;
    total bigint := 0;
    batches int := 0;
    done_null bool := false;
BEGIN
    IF older_than IS NULL THEN
        RAISE EXCEPTION 'older_than must not be NULL'
            USING ERRCODE = '22004', HINT = 'Pass an interval such as ''30 days''.';
    END IF;
    IF older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must not be negative: %', older_than
            USING ERRCODE = '22023', HINT = 'Pass an interval >= 0 such as ''30 days''.';
    END IF;
    IF batch_size IS NULL THEN
        RAISE EXCEPTION 'batch_size must not be NULL'
            USING ERRCODE = '22004', HINT = 'Omit it for the default of 10000.';
    END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1: %', batch_size
            USING ERRCODE = '22023', HINT = 'Use a positive batch_size such as 10000.';
    END IF;
    IF max_batches < 1 THEN
        RAISE EXCEPTION 'max_batches must be at least 1 or NULL: %', max_batches
            USING ERRCODE = '22023', HINT = 'Pass NULL to prune until nothing older is left.';
    END IF;

    cutoff := autoassign.clock_now() - older_than;

    -- Restaurants, in order, through a skip scan of events_restaurant_at; then NULL.
    rid := (SELECT e.restaurant_id FROM autoassign.events e
             WHERE e.restaurant_id IS NOT NULL ORDER BY e.restaurant_id LIMIT 1);
    LOOP
        IF rid IS NULL THEN
            EXIT WHEN done_null;
            done_null := true;
        END IF;
        last_at := '-infinity';
        LOOP
            EXIT WHEN max_batches IS NOT NULL AND batches >= max_batches;
            IF rid IS NULL THEN
                WITH gone AS (
                    DELETE FROM autoassign.events
                     WHERE id IN (SELECT e.id FROM autoassign.events e
                                   WHERE e.restaurant_id IS NULL
                                     AND e.at >= last_at AND e.at < cutoff
                                   ORDER BY e.at LIMIT batch_size)
                    RETURNING at)
                SELECT count(*), max(gone.at) INTO n, last_at FROM gone;
            ELSE
                WITH gone AS (
                    DELETE FROM autoassign.events
                     WHERE id IN (SELECT e.id FROM autoassign.events e
                                   WHERE e.restaurant_id = rid
                                     AND e.at >= last_at AND e.at < cutoff
                                   ORDER BY e.at LIMIT batch_size)
                    RETURNING at)
                SELECT count(*), max(gone.at) INTO n, last_at FROM gone;
            END IF;
            EXIT WHEN n = 0;
            total := total + n;
            batches := batches + 1;
            EXIT WHEN n < batch_size;
        END LOOP;
        EXIT WHEN max_batches IS NOT NULL AND batches >= max_batches;
        EXIT WHEN rid IS NULL;
        rid := (SELECT e.restaurant_id FROM autoassign.events e
                 WHERE e.restaurant_id > rid ORDER BY e.restaurant_id LIMIT 1);
    END LOOP;
    RETURN total;
END
$$;

COMMENT ON FUNCTION autoassign.autoassign_prune_events(interval, int, int) IS
'Deletes autoassign.events rows (all event types) with at < clock_now() - older_than, in '
'batches of batch_size rows, at most max_batches batches (NULL = until none are left); '
'returns the number deleted. Runs in the caller''s transaction (a function cannot commit): '
'to spread the work over several transactions call it repeatedly, e.g. '
'autoassign_prune_events(''30 days'', 5000, 1), until it returns 0. Takes only ROW EXCLUSIVE '
'on events and row locks on the deleted (append-only) rows. NULL older_than/batch_size '
'raise 22004; negative older_than, batch_size < 1 or max_batches < 1 raise 22023. Pruning a '
'summary lets a later summary for the same booking be written again.';
