"""Prints pass/fail/total per service from lscompat_plugin's results.json and
writes the failing test ids to failing.txt beside it.

usage: summary.py OUT_DIR
"""

import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = json.loads((out / "results.json").read_text())
failing = sorted(r["nodeid"] for r in rows if r["outcome"] not in ("passed", "skipped"))
(out / "failing.txt").write_text("".join(f"{n}\n" for n in failing))


def table(title, rows):
    print(f"\n{title}")
    print(f"  {'service':<10}{'passed':>8}{'failed':>8}{'skipped':>9}{'total':>7}   pass%")
    groups = {s: [r for r in rows if r["service"] == s] for s in ("sqs", "sns", "kinesis")}
    groups["overall"] = rows
    for name, rs in groups.items():
        passed = sum(r["outcome"] == "passed" for r in rs)
        skipped = sum(r["outcome"] == "skipped" for r in rs)
        failed = len(rs) - passed - skipped
        pct = f"{100 * passed / len(rs):5.1f}" if rs else "    -"
        print(f"  {name:<10}{passed:>8}{failed:>8}{skipped:>9}{len(rs):>7}   {pct}")


table("in *.validation.json", [r for r in rows if r["in_validation_json"]])
if any(not r["in_validation_json"] for r in rows):
    table("marked @markers.aws.validated", [r for r in rows if r["marked_validated"]])
print(f"\nfailing test ids: {out / 'failing.txt'} ({len(failing)})")
