#!/bin/sh
# Runs every cargo-fuzz target for DURATION seconds each, JOBS at a time.
#   fuzz/run-all.sh [DURATION=600] [JOBS=2] [TARGET...]
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Seeds fuzz/corpus/ from recorded real sessions first (fuzz/seed.py) when
# it is missing. Logs go to fuzz/logs/TARGET.log, crashes to
# fuzz/artifacts/TARGET/. Exits 1 if any target found a crash.
set -u
cd "$(dirname "$0")"
DURATION=${1:-600}
JOBS=${2:-2}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
TARGETS=${*:-$(cargo +nightly fuzz list)}
mkdir -p logs
cargo +nightly fuzz build -O >logs/build.log 2>&1 || { cat logs/build.log; exit 2; }
if [ ! -d corpus ]; then
  (cd .. && cargo build --release --bin rrsync-rs >/dev/null 2>&1) && python3 ./seed.py || echo "seeding failed; starting from empty corpora"
fi
run_one() {
  t=$1
  mkdir -p "corpus/$t"
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -max_total_time="$DURATION" -rss_limit_mb=2048 -timeout=20 -max_len=262144 \
    -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "$t: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$') runs)"
  else
    echo "$t: FAILED rc=$rc, see fuzz/logs/$t.log and fuzz/artifacts/$t/"
  fi
  return $rc
}
fail=0
running=0
pids=""
for t in $TARGETS; do
  run_one "$t" &
  pids="$pids $!"
  running=$((running + 1))
  if [ $running -ge "$JOBS" ]; then
    for p in $pids; do wait "$p" || fail=1; done
    pids=""; running=0
  fi
done
for p in $pids; do wait "$p" || fail=1; done
exit $fail
