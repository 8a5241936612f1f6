#!/usr/bin/env bash
# The abuse run of issue 9, repeatable: idle and slowloris sockets, stalled
# bodies (HTTP/1.1 and h2c), decode bombs, a low fd limit, a full disk, two
# eddys on one data dir, a hung HTTP subscriber, crafted tokens, move-task
# deadlocks and purges under load. Each case is a test that asserts eddy's
# bound; the figures it measured are printed at the end. The same tests run
# in ./scripts/test.sh; this script runs only them, with their output.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin eddy
export EDDY_BIN="$PWD/target/release/eddy"
[ -x .venv-json/bin/python ] || { python3 -m venv .venv-json && .venv-json/bin/pip install -q -r tests/requirements-json.txt; }
echo "== HTTP front, store and decoders (one eddy per case)"
.venv-json/bin/python -m pytest -q tests/server "$@"
echo "== services under abuse (one shared eddy; figures printed by the tests)"
EDDY_ABUSE_SNS_RATE=100 EDDY_ABUSE_SNS_SECONDS=60 EDDY_EXPECT_PROTOCOL=json .venv-json/bin/python -m pytest -q -s \
  tests/sdk/test_sns_abuse.py tests/sdk/test_abuse_decode.py tests/sdk/test_kinesis_crafted.py \
  $(ls tests/sdk/test_sqs_abuse.py 2>/dev/null) tests/sdk/test_move_tasks.py "$@"
