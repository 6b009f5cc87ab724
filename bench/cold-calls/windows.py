#!/usr/bin/env python3
"""Where a daemon's threads were during some calls: reads `perf script -F comm,time,ip,sym,dso` (recorded with
`-k mono`) on stdin and a file of the calls' spans (start and end in CLOCK_MONOTONIC ns, one call a line), and
prints the CPU time its threads spent inside those spans, per call, by thread and by what ran. Each sample stands
for 1/20000 s (perf record -F 20000). Used by bench/cold-calls/run.sh image-cycle with PROFILE=1."""
import bisect
import collections
import re
import sys

SAMPLE_US = 50.0
spans = sorted(tuple(int(x) / 1e9 for x in line.split()) for line in open(sys.argv[1]) if line.strip())
starts = [a for a, _ in spans]


def inside(t):
    i = bisect.bisect_right(starts, t) - 1
    return i >= 0 and t <= spans[i][1]


def thread(comm):
    if comm.startswith('multiThreadIo'):
        return 'transport (event loop)'
    if comm.startswith(('C1 Compiler', 'C2 Compiler', 'C1', 'C2')):
        return 'JIT compiler'
    if comm.startswith('ForkJoinPool') or comm.startswith('VirtualThread'):
        return 'virtual threads'
    return comm


def what(sym, dso):
    if sym == 'Interpreter':
        return 'interpreter'
    if dso.startswith('[JIT]') or dso.startswith('/tmp/perf-'):
        return 'compiled Java'
    if dso == '[kernel.kallsyms]':
        return 'kernel'
    if dso.endswith('libjvm.so'):
        return 'JVM'
    return dso.rsplit('/', 1)[-1] or 'other'


line_re = re.compile(r'^\s*(.+?)\s+(\d+\.\d+):\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$')
by = collections.Counter()
threads = collections.Counter()
total = 0
for line in sys.stdin:
    m = line_re.match(line)
    if not m or not inside(float(m.group(2))):
        continue
    th, sym, dso = thread(m.group(1).strip()), m.group(3).strip(), m.group(4).strip()
    by[(th, what(re.sub(r'\+0x[0-9a-f]+$', '', sym), dso))] += 1
    threads[th] += 1
    total += 1
n = len(spans)
print('PROFILE %d calls: the daemon ran %.0f us per call inside them' % (n, total * SAMPLE_US / n))
for th, count in threads.most_common(6):
    parts = ', '.join('%s %.0f' % (w, c * SAMPLE_US / n) for (t, w), c in by.most_common() if t == th and c * SAMPLE_US / n >= 5)
    print('PROFILE   %s: %.0f us (%s)' % (th, count * SAMPLE_US / n, parts))
