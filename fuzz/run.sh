#!/usr/bin/env bash
# Runs the fuzz targets one after another, SECONDS each (default 180):
#   fuzz/run.sh [SECONDS] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept the nightly flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-180}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(query_form json_input xml_response)
for t in "${targets[@]}"; do
  case "$t" in
    query_form) dict=query ;;
    *) dict=json ;;
  esac
  mkdir -p "fuzz/corpus/$t"
  echo "== $t (${secs}s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -dict="fuzz/dict/$dict.dict" -max_total_time="$secs"
done
