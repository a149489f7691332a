#!/usr/bin/env python3
"""Builds sql/pg_autoassign--0.2.0--0.3.0.sql from template.sql: each @@block@@ marker is
filled with the matching block copied verbatim from the generated 0.3.0 install script
(`cargo pgrx schema pg15 --pg-config /usr/lib/postgresql/15/bin/pg_config -o /tmp/v030.sql`),
so upgraded objects are byte-identical to a fresh install. scripts/upgrade_test.sh proves it.
Usage: python3 build.py /tmp/v030.sql ../../../sql/seating.sql ../../../sql/ops.sql > ../../../sql/pg_autoassign--0.2.0--0.3.0.sql"""
import re
import sys

V = open(sys.argv[1]).read().split('\n')


def block(start, end=None, end_before_close=False, orreplace=False):
    i = next(k for k, l in enumerate(V) if l.startswith(start))
    if end_before_close:
        j = next(k for k in range(i, len(V)) if V[k].startswith('/* </end')) - 1
    else:
        j = next(k for k in range(i, len(V)) if V[k].startswith(end))
    out = V[i:j + 1]
    if orreplace:
        out = [re.sub(r'^CREATE +FUNCTION ', 'CREATE OR REPLACE FUNCTION ', l) for l in out]
    return '\n'.join(out).rstrip('\n')


BLOCKS = {
    'stay_helpers': dict(start='-- When a booking releases its tables', end='$$;', orreplace=True),
    'stay_range': dict(start='-- The window a booking blocks its tables for', end='$$;', orreplace=True),
    'clock_now': dict(start='-- pg_autoassign::api::clock::clock_now', end_before_close=True, orreplace=True),
    'event_queue_stats': dict(start='-- pg_autoassign::api::stats::autoassign_event_queue_stats', end_before_close=True),
    'flush_events': dict(start='-- pg_autoassign::api::stats::autoassign_flush_events', end_before_close=True),
    'telemetry_async': dict(start='-- pg_autoassign asynchronous telemetry (issue 12)', end_before_close=True),
    'stats_fn': dict(start='-- pg_autoassign::api::stats::autoassign_stats', end='AS \'MODULE_PATHNAME\''),
    'stats_view': dict(start='CREATE VIEW stats AS', end="    'Planner calls per restaurant"),
    'seating': dict(start=open(sys.argv[2]).readline().rstrip('\n'), end_before_close=True),
    'quote': dict(start='-- pg_autoassign::api::quote::autoassign_quote', end_before_close=True),
    'confirm': dict(start='-- pg_autoassign::api::confirm::autoassign_confirm', end_before_close=True),
    'alternatives': dict(start='-- pg_autoassign::api::seating::autoassign_alternatives', end_before_close=True),
    'optimize': dict(start='-- pg_autoassign::api::seating::autoassign_optimize', end_before_close=True),
    'ops': dict(start=open(sys.argv[3]).readline().rstrip('\n'), end_before_close=True),
    'security': dict(start='-- pg_autoassign security: least privilege', end_before_close=True),
}
t = open(sys.path[0] + '/template.sql').read()
t = re.sub(r'^@@(\w+)@@$', lambda m: block(**BLOCKS[m.group(1)]), t, flags=re.M)
assert '@@' not in t
sys.stdout.write(t)
