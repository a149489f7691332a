-- pg_autoassign 0.3.0 -> 0.4.0: issue 11, quote at the physical floor.
-- Pinned like the install script: nothing planted in public binds while this runs.
SET LOCAL search_path = autoassign, pg_catalog, pg_temp;

-- autoassign_quote gains `detail` (default false): alternates and diagnostics are built
-- only when asked for. The four-argument form is replaced; callers that name their
-- arguments, or pass four, keep working.
DROP FUNCTION autoassign_quote(uuid, jsonb, text, integer);
CREATE  FUNCTION "autoassign_quote"(
	"booking_id" uuid, /* Option < Uuid > */
	"strategy" jsonb DEFAULT '{}', /* Option < super :: jsonb_arg :: StrategyArg > */
	"source" TEXT DEFAULT 'api', /* Option < & str > */
	"hold_seconds" INT DEFAULT 0, /* Option < i32 > */
	"detail" bool DEFAULT false /* Option < bool > */
) RETURNS TABLE (
	"ok" bool,  /* bool */
	"reason" TEXT,  /* Option < String > */
	"reason_class" TEXT,  /* Option < String > */
	"table_ids" uuid[],  /* :: std :: option :: Option < Vec < Uuid > > */
	"zone_id" uuid,  /* Option < Uuid > */
	"seats" INT,  /* Option < i32 > */
	"score" bigint,  /* Option < i64 > */
	"alternates" jsonb,  /* Option < JsonbOut > */
	"duration_us" bigint,  /* i64 */
	"diagnostics" jsonb,  /* Option < JsonbOut > */
	"moves" jsonb,  /* JsonbOut */
	"alternatives" jsonb  /* Option < JsonbOut > */
)
VOLATILE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'autoassign_quote_wrapper';
ALTER FUNCTION autoassign_quote(uuid, jsonb, text, integer, boolean) OWNER TO @extowner@;
REVOKE ALL ON FUNCTION autoassign_quote(uuid, jsonb, text, integer, boolean) FROM PUBLIC;
ALTER FUNCTION autoassign_quote(uuid, jsonb, text, integer, boolean) SECURITY DEFINER;
GRANT EXECUTE ON FUNCTION autoassign_quote(uuid, jsonb, text, integer, boolean) TO autoassign_api;

-- Every function pins search_path (the new quote too), and the functions in Rust also pin
-- plan_cache_mode = auto: a session's force_custom_plan no longer re-plans their prepared
-- statements on every call (sql/security.sql, section 5).
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON p.oid = d.objid
         WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'pg_autoassign')
           AND d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
           AND p.proname NOT IN ('stay_end', 'stay_range', 'clock_now', 'booking_movable')
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
        IF (SELECT l.lanname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE p.oid = f) = 'c' THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s SET plan_cache_mode = auto', f);
        END IF;
    END LOOP;
END $$;
