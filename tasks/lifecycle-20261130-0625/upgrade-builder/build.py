import re, sys
V = open('/tmp/pgup/v020.sql').read().split('\n')

def block(start, end=None, end_before_close=False, orreplace=False):
    i = next(k for k, l in enumerate(V) if l.startswith(start))
    if end_before_close:
        j = next(k for k in range(i, len(V)) if V[k].startswith('/* </end')) - 1
    else:
        j = next(k for k in range(i, len(V)) if V[k].startswith(end))
    out = V[i:j + 1]
    if orreplace:
        out = [re.sub(r'^CREATE FUNCTION ', 'CREATE OR REPLACE FUNCTION ', l) for l in out]
    return '\n'.join(out)

BLOCKS = {
 'retry_policy_upsert': dict(start='-- A policy row changed by the DBA', end='    FOR EACH ROW EXECUTE FUNCTION retry_policy_upsert();'),
 'retry_queue': dict(start='-- The bookings that need a retry', end='CREATE INDEX retry_queue_woken'),
 'wake_overlapping': dict(start='-- Freed capacity wakes', end='END $$;', orreplace=True),
 'floor_changed_wake': dict(start='-- A floor edit can change what fits', end='END $$;', orreplace=True),
 'cron': dict(start='-- pg_cron registration.', end_before_close=True, orreplace=True),
 'lifecycle': dict(start='-- The booking lifecycle (SPEC', end='    FOR EACH ROW EXECUTE FUNCTION table_adjacency_guard();'),
 'retire_table_at': dict(start='-- pg_autoassign::api::lifecycle::autoassign_retire_table_at', end_before_close=True),
 'sweep': dict(start='-- pg_autoassign::api::lifecycle::autoassign_sweep', end_before_close=True),
 'booking_plan_problem': dict(start='-- pg_autoassign::api::lifecycle::booking_plan_problem', end_before_close=True),
 'floor_cache_stats': dict(start='-- pg_autoassign::api::stats::autoassign_floor_cache_stats', end_before_close=True),
 'replan_booking': dict(start='-- pg_autoassign::api::lifecycle::replan_booking', end_before_close=True),
 'longest_stay': dict(start='-- Keeps restaurants.longest_stay_minutes', end='    FOR EACH ROW EXECUTE FUNCTION bookings_longest_stay();'),
 'retire_table': dict(start='-- Takes a table out of service', end="    'Takes a table out of service"),
}
t = open('template.sql').read()
t = re.sub(r'^@@(\w+)@@$', lambda m: block(**BLOCKS[m.group(1)]), t, flags=re.M)
assert '@@' not in t
sys.stdout.write(t)
