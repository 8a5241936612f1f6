"""pytest plugin that runs LocalStack's AWS-validated SQS/SNS/Kinesis tests against eddy.

Loaded by scripts/localstack-compat.sh with `-p lscompat_plugin`, from the
LocalStack checkout's root. It
  * points LocalStack's config at eddy (EDDY_ENDPOINT), after their
    tests/aws/conftest.py has set it to localhost:4566;
  * keeps only the tests named in the checkout's *.validation.json files
    (LSCOMPAT_SELECT=marker: those marked @markers.aws.validated instead;
    either: both), less the groups in deselect.txt;
  * removes LocalStack's @markers.snapshot.skip_snapshot_verify marks, which
    exempt LocalStack's own gaps from the recorded AWS responses, so every
    snapshot is verified in full;
  * with LSCOMPAT_RUN_SKIPPED=1, also runs the tests LocalStack skips for
    its own reasons ("not implemented in localstack", ...);
  * writes every selected test's outcome to $LSCOMPAT_OUT/results.json.
"""

import fnmatch
import inspect
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

HERE = Path(__file__).parent
OUT = Path(os.environ.get("LSCOMPAT_OUT", "/tmp/lscompat"))
SELECT = os.environ.get("LSCOMPAT_SELECT", "validation")
DROP_MARKS = set()
if os.environ.get("LSCOMPAT_KEEP_SKIP_SNAPSHOT_VERIFY") != "1":
    DROP_MARKS.add("skip_snapshot_verify")
if os.environ.get("LSCOMPAT_RUN_SKIPPED") == "1":
    DROP_MARKS.add("skip")

_results = {}
_meta = {}


def _load_rules():
    """[(reason, kind, value)] from deselect.txt."""
    rules, reason = [], "unspecified"
    for line in (HERE / "deselect.txt").read_text().splitlines():
        line = line.strip()
        if line.startswith("# "):
            reason = line[2:]
        elif line and not line.startswith("#"):
            kind, _, value = line.partition(":")
            if kind not in ("fixture", "client", "marker"):
                kind, value = "id", line
            rules.append((reason, kind, value))
    return rules


def _excluded_by(item, rules):
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        source = ""
    clients = set(re.findall(r"aws_client\.(\w+)", source))
    for reason, kind, value in rules:
        if (
            (kind == "fixture" and value in item.fixturenames)
            or (kind == "client" and value in clients)
            or (kind == "marker" and item.get_closest_marker(value))
            or (kind == "id" and fnmatch.fnmatchcase(item.nodeid, value))
        ):
            return reason
    return None


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    from localstack import config as ls_config

    url = urlparse(os.environ["EDDY_ENDPOINT"])
    ls_config.GATEWAY_LISTEN = ls_config.UniqueHostAndPortList(
        [ls_config.HostAndPort(host=url.hostname, port=url.port)]
    )
    ls_config.LOCALHOST = url.hostname


def pytest_collection_modifyitems(session, config, items):
    rules = _load_rules()
    validated = {}
    for path in {Path(str(item.fspath)) for item in items}:
        vfile = path.with_suffix(".validation.json")
        validated.update(json.loads(vfile.read_text()) if vfile.exists() else {})

    keep, drop, dropped_by = [], [], {}
    for item in items:
        in_json = item.nodeid in validated
        marked = item.get_closest_marker("aws_validated") is not None
        wanted = {"validation": in_json, "marker": marked, "either": in_json or marked}[SELECT]
        reason = _excluded_by(item, rules) if wanted else None
        if not wanted or reason:
            drop.append(item)
            if reason:
                dropped_by[reason] = dropped_by.get(reason, 0) + 1
            continue
        for node in item.listchain():
            node.own_markers[:] = [m for m in node.own_markers if m.name not in DROP_MARKS]
        _meta[item.nodeid] = {"in_validation_json": in_json, "marked_validated": marked}
        keep.append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)
    for reason, n in sorted(dropped_by.items(), key=lambda kv: -kv[1]):
        print(f"\nlscompat: left out {n:3d} validated tests: {reason}", end="")
    print(f"\nlscompat: running {len(keep)} tests (selection: {SELECT})")


def pytest_collection_finish(session):
    selected = {item.nodeid for item in session.items}  # after -k, -m and the like
    for nodeid in set(_meta) - selected:
        del _meta[nodeid]


def pytest_runtest_logreport(report):
    if report.nodeid not in _meta:
        return
    rec = _results.setdefault(report.nodeid, {"outcome": "passed", "longrepr": ""})
    if report.failed and rec["outcome"] == "passed":
        rec["outcome"] = "failed" if report.when == "call" else f"error ({report.when})"
        rec["longrepr"] = str(report.longrepr)[:20000]
    elif report.skipped and rec["outcome"] == "passed":
        rec["outcome"] = "skipped"
        rec["longrepr"] = str(report.longrepr)[:2000]


def pytest_sessionfinish(session):
    if not _meta:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [
        {"nodeid": n, "service": n.split("/")[3], **_meta[n], **_results.get(n, {"outcome": "not run"})}
        for n in _meta
    ]
    (OUT / "results.json").write_text(json.dumps(rows, indent=1))
