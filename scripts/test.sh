#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Rust unit tests, then the SDK
# suites (boto3 over JSON and an older botocore over awsQuery), the JSON one
# again on two nodes over PostgreSQL, the crash
# tests and the power-loss test against a freshly built eddy. Python clients
# live in venvs under .venv-* that this script creates when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo build --release"
cargo build --release --quiet --bin eddy
export EDDY_BIN="$PWD/target/release/eddy"

echo "== cargo test (unit tests, and aws-sdk-rust end-to-end against \$EDDY_BIN)"
cargo test --workspace --quiet

make_venv() { # name, requirements file
  local dir=".venv-$1" marker
  # The marker names the requirements' content: editing the file rebuilds the venv.
  marker="$dir/.ok-$(md5sum < "$2" | cut -c1-8)"
  if [ ! -x "$dir/bin/python" ] || [ ! -f "$marker" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$2"
    touch "$marker"
  fi
}
# Current SDKs speak awsJson1_0 to SQS; botocore before 1.31.81 speaks awsQuery.
make_venv json tests/requirements-json.txt
make_venv query tests/requirements-query.txt

echo "== SDK suite over awsJson1_0 (current boto3)"
EDDY_EXPECT_PROTOCOL=json .venv-json/bin/python -m pytest -q tests/sdk "$@"
echo "== SDK suite over awsQuery (boto3 1.28 / botocore 1.31)"
EDDY_EXPECT_PROTOCOL=query .venv-query/bin/python -m pytest -q tests/sdk "$@"
echo "== server limits and faults (once: they do not depend on the SDK's protocol)"
.venv-json/bin/python -m pytest -q tests/server "$@"
echo "== crash test (kill -9 under load)"
.venv-json/bin/python tests/crash/crash_test.py
echo "== crash test under --durability flush (acknowledged means handed to the OS: a kill -9 loses none of it)"
EDDY_DURABILITY=flush .venv-json/bin/python tests/crash/crash_test.py
echo "== on the PostgreSQL store (--store postgres://…) with two nodes: the SDK suite with requests alternating between them, the SQS, SNS, Kinesis and EventBridge crash tests killing the leader, and the cluster tests"
# PostgreSQL 15 at 127.0.0.1:5432 (trust auth, database test) is part of the
# machine; each run uses schemas of its own and drops them. The modules left
# out start servers of their own with other flags, which would join the cluster.
pg="${EDDY_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
drop_schema() { psql -q "$pg" -c "DROP SCHEMA IF EXISTS $1 CASCADE" >/dev/null 2>&1 || echo "(could not drop schema $1)"; }
on_postgres() { # schema, command...
  local schema="$1"; shift
  EDDY_STORE="$pg" EDDY_STORE_SCHEMA="$schema" "$@" || { drop_schema "$schema"; exit 1; }
  drop_schema "$schema"
}
on_postgres "eddy_sdk_$$" env EDDY_TEST_NODES=2 EDDY_EXPECT_PROTOCOL=json .venv-json/bin/python -m pytest -q tests/sdk \
  --ignore=tests/sdk/test_auth_verify.py --ignore=tests/sdk/test_iam_enforce.py --ignore=tests/sdk/test_pipes_iam.py \
  --ignore=tests/sdk/test_kinesis_limits.py "$@"
for crash in crash sns_crash kinesis_crash events_crash; do
  on_postgres "eddy_${crash}_$$" env EDDY_CRASH_NODES=2 .venv-json/bin/python "tests/crash/${crash}_test.py"
done
EDDY_STORE="$pg" .venv-json/bin/python -m pytest -q tests/cluster "$@"
echo "== SNS crash test (kill -9 during fan-out)"
.venv-json/bin/python tests/crash/sns_crash_test.py
echo "== Kinesis crash test (kill -9 under PutRecords load)"
.venv-json/bin/python tests/crash/kinesis_crash_test.py
echo "== EventBridge crash test (kill -9 under PutEvents load)"
.venv-json/bin/python tests/crash/events_crash_test.py
echo "== power-loss test (power cut under SQS, SNS, Kinesis and EventBridge load on a FUSE fs that drops unsynced writes)"
# The test's FUSE filesystem loads libfuse3 (through mfusepy): installed by ./scripts/test.sh when missing.
if ! ldconfig -p 2>/dev/null | grep 'libfuse3\.so' >/dev/null; then
  apt-get update -qq && { apt-get install -y -qq libfuse3-3 || apt-get install -y -qq libfuse3-4; } >/dev/null
fi
.venv-json/bin/python tests/powerloss/powerloss_test.py
echo "== all tests passed"
