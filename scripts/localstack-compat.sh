#!/usr/bin/env bash
# Runs LocalStack's AWS-validated SQS, SNS and Kinesis tests against eddy, with
# snapshot verification on, and prints pass/fail/total per service.
#
#   scripts/localstack-compat.sh <path-to-localstack-checkout> [pytest args]
#
# EDDY_ENDPOINT: use a running eddy instead of starting $EDDY_BIN (default
# target/release/eddy). LSCOMPAT_OUT: where results go (default /tmp/lscompat).
# LSCOMPAT_SELECT: validation (default; tests in *.validation.json), marker
# (tests marked aws.validated) or either. LSCOMPAT_RUN_SKIPPED=1 also runs tests
# LocalStack skips for its own gaps; LSCOMPAT_KEEP_SKIP_SNAPSHOT_VERIFY=1 keeps
# its per-test snapshot exemptions (dropped by default). Selection, exclusions
# and reasons: tests/localstack-compat/. Not part of scripts/test.sh (CI has no
# LocalStack checkout).
set -euo pipefail

checkout=$(cd "${1:?usage: $0 <path-to-localstack-checkout> [pytest args]}" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv-localstack
export LSCOMPAT_OUT=${LSCOMPAT_OUT:-/tmp/lscompat}
mkdir -p "$LSCOMPAT_OUT"
rm -f "$LSCOMPAT_OUT/results.json"

# A Python that can run LocalStack (3.12+), with localstack-core installed from
# the checkout and only what its SQS/SNS/Kinesis tests import, pinned by the
# checkout's requirements-test.txt.
if [ "$(cat "$venv/.checkout" 2>/dev/null)" != "$checkout" ]; then
    for python in ${PYTHON:-} python3.13 python3.12 python3 ~/.pyenv/versions/3.1[2-9]*/bin/python3; do
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && break
    done
    "$python" -m venv "$venv"
    SETUPTOOLS_SCM_PRETEND_VERSION_FOR_LOCALSTACK_CORE=0.0.0 "$venv/bin/pip" install -q \
        -c "$checkout/requirements-test.txt" -e "$checkout[base-runtime]" \
        -r "$root/tests/localstack-compat/requirements.txt"
    echo "$checkout" > "$venv/.checkout"
fi

if [ -z "${EDDY_ENDPOINT:-}" ]; then
    eddy=${EDDY_BIN:-$root/target/release/eddy}
    port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    data=$(mktemp -d)
    "$eddy" serve --listen "127.0.0.1:$port" --data-dir "$data" > "$LSCOMPAT_OUT/eddy.log" 2>&1 &
    eddy_pid=$!
    trap 'kill $eddy_pid 2>/dev/null; wait $eddy_pid 2>/dev/null; rm -rf "$data"' EXIT
    export EDDY_ENDPOINT=http://127.0.0.1:$port
    for _ in $(seq 100); do curl -sf "$EDDY_ENDPOINT/_eddy/health" > /dev/null && break; sleep 0.1; done
fi
echo "eddy at $EDDY_ENDPOINT; LocalStack tests from $checkout"

# No in-process LocalStack; clients go to eddy; with SERVICES set (no sts), the
# account_id fixture does not call STS, which eddy does not serve.
export TEST_SKIP_LOCALSTACK_START=1 TEST_AWS_ENDPOINT_URL=$EDDY_ENDPOINT SERVICES=sqs,sns,kinesis
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test PYTHONPATH=$root/tests/localstack-compat
pytest_args=(-p lscompat_plugin -p no:cacheprovider -p no:warnings -W ignore::pluggy.PluggyTeardownRaisedWarning
    -q -rN --tb=short --show-capture=no --timeout 420)
cd "$checkout"
status=0
"$venv/bin/python" -m pytest "${pytest_args[@]}" \
    tests/aws/services/sqs tests/aws/services/sns tests/aws/services/kinesis "$@" || status=$?
"$venv/bin/python" "$root/tests/localstack-compat/summary.py" "$LSCOMPAT_OUT"
exit $status
