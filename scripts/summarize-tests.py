#!/usr/bin/env python3
"""Counts test cases over meson test logs: cmocka's own counts where a test program printed them
(meson shows one line per program), one case per program otherwise. ONNX conformance cases that
facequant refuses by design (unsupported ops or dtypes) are cmocka skips; they are reported on a
line of their own and not counted as skipped tests, so 'skipped' means a test that could not run
here. Ends with one line 'N passed, N failed, N skipped' and exits non-zero when something
failed or nothing ran."""
import json
import re
import sys

passed = failed = skipped = refused = 0
for log in sys.argv[1:]:
    with open(log) as f:
        for line in f:
            entry = json.loads(line)
            out = (entry.get('stdout') or '') + (entry.get('stderr') or '')
            p = re.findall(r'^\[  PASSED  \] (\d+) test', out, re.M)
            x = re.findall(r'^\[  FAILED  \] (\d+) test', out, re.M)
            s = re.findall(r'^\[  SKIPPED \] (\d+) test', out, re.M)
            result = entry.get('result')
            table = re.findall(r'^total\s+\d+\s+\d+\s+\d+\s+(\d+)\s*$', out, re.M)
            if entry.get('name', '').endswith('conformance') and table:
                refused += int(table[-1])
                skipped -= int(table[-1])
            if p or x or s:
                passed += sum(map(int, p))
                failed += sum(map(int, x))
                skipped += sum(map(int, s))
                # A program that crashed after its summary, or failed with no failed case.
                if result not in ('OK', 'SKIP', 'EXPECTEDFAIL') and not x:
                    failed += 1
            elif result == 'OK':
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:
                failed += 1
if refused:
    print(f'({refused} ONNX conformance cases refused by design: ops or dtypes facequant does '
          'not support; see the per-op table in the conformance log)')
print(f'{passed} passed, {failed} failed, {skipped} skipped')
sys.exit(1 if failed or passed == 0 else 0)
