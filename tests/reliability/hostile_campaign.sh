#!/usr/bin/env bash
# ctest reliability_campaign: hostile use of `vqfuzz campaign` (scripts/campaign).
#   - Ctrl-C (SIGINT) mid-run: every finding and corpus input written so far stays, the report
#     is written and says "interrupted", nothing half-written (no *.tmp, every JSON parses);
#   - restart in the same dir resumes: the engine is handed the previous run's inputs;
#   - a second campaign in a directory where one is running is refused (exit 2, one line) and
#     does not disturb the first;
#   - unknown target: exit 2, one line;
#   - full disk for the campaign dir, from the start and filling up mid-run: exit 2 with a
#     one-line reason naming the path, no traceback, no engine left running, findings written
#     before the disk filled kept, nothing half-written left as if complete.
# The engine is tests/reliability/fake_engine.sh standing in for a libFuzzer target binary (the
# dev and clang builds have none): what is tested is the campaign's own handling of signals,
# locks and write errors, with a deterministic engine. The full disk is a real one: a 256 KiB
# tmpfs mounted in a private mount namespace (unshare; needs root or unprivileged user
# namespaces, otherwise those cases are reported as SKIP, not passed).
# usage: hostile_campaign.sh VQFUZZ SOURCE_DIR
set -uo pipefail
vqfuzz=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() {
  [ -n "${first:-}" ] && kill -KILL "$first" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
T=rng_device
# a build dir with the layout scripts/vqfuzz_campaign expects: targets/<t> and the vqfuzz tool
# (--no-coverage below: the fake engine's corpus is no input for the coverage build)
mkdir -p "$work/build/targets" "$work/build/harness/cli"
ln -s "$here/fake_engine.sh" "$work/build/targets/$T"
ln -s "$vqfuzz" "$work/build/harness/cli/vqfuzz"
export VQF_FUZZ_BUILD="$work/build" VQF_CLI="$vqfuzz"
campaign() { timeout -k 5 60 python3 "$src/scripts/campaign" --targets $T --quiet --no-coverage "$@"; }
# start_campaign ARGS...: a long campaign in the background, $first = the python process itself.
# Job control on: a background job of a script would otherwise ignore SIGINT, unlike a campaign
# started from a terminal.
start_campaign() {
  set -m
  python3 "$src/scripts/campaign" --targets $T --quiet --no-coverage --per-target-seconds 50 "$@" >/dev/null 2>"$work/err-first" &
  first=$!
  set +m
}
# interrupt_campaign: SIGINT (what Ctrl-C delivers), then its exit status in $rc; 124 if it
# did not end within 30 s (then it is killed)
interrupt_campaign() {
  kill -INT "$first"
  if wait_for 30 eval '! kill -0 "$first" 2>/dev/null'; then wait "$first"; rc=$?; else
    kill -KILL "$first"; wait "$first"; rc=124; fi
  first=
}
fails=0 cases=0
ok() { cases=$((cases + 1)); echo "ok   $1"; }
bad() { cases=$((cases + 1)); fails=$((fails + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }
# one_line_error NAME STDERR_FILE REGEX: the whole stderr is one "vqfuzz: ..." line matching REGEX
one_line_error() {
  if [ "$(wc -l <"$2")" -eq 1 ] && grep -qE "^vqfuzz: .*$3" "$2"; then ok "$1: one-line reason"; else
    bad "$1: stderr is not one 'vqfuzz: ...$3' line" "$(head -n 5 "$2")"; fi
}
# whole_files NAME DIR: no *.tmp left, every *.json parses, index.html (if any) is complete
whole_files() {
  local tmps badjson
  tmps=$(find "$2" -name '*.tmp' | head -n 3)
  badjson=$(find "$2" -name '*.json' -exec sh -c 'python3 -m json.tool "$1" >/dev/null 2>&1 || echo "$1"' _ {} \;)
  if [ -f "$2/index.html" ] && ! tail -c 20 "$2/index.html" | grep -q '</html>'; then badjson="$badjson index.html"; fi
  if [ -z "$tmps$badjson" ]; then ok "$1: nothing half-written"; else
    bad "$1: half-written files" "$tmps" "$badjson"; fi
}
# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
  local n=$(($1 * 10))
  shift
  while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}
have_finding() { compgen -G "$1/$T/findings/crash-*" >/dev/null; }
queue_has() { [ "$(find "$1/$T/queue" -type f 2>/dev/null | wc -l)" -ge "$2" ]; }

# -- unknown target ------------------------------------------------------------------------
timeout -k 5 30 python3 "$src/scripts/campaign" --targets nosuch --quiet --out "$work/u" 2>"$work/err"
rc=$?
[ $rc -eq 2 ] && ok "unknown target: exit 2" || bad "unknown target: exit $rc, expected 2"
one_line_error "unknown target" "$work/err" "unknown target 'nosuch'"

# -- Ctrl-C keeps what was written ---------------------------------------------------------
D=$work/camp
start_campaign --out "$D"
if wait_for 20 have_finding "$D" && wait_for 20 queue_has "$D" 3; then
  interrupt_campaign
  kept_finding=$(cd "$D/$T/findings" && ls crash-* | grep -v '\.log$' | head -n 1)
  queued=$(find "$D/$T/queue" -type f | wc -l)
  # 1: findings were made (the engine's crash input)
  [ $rc -eq 1 ] && ok "Ctrl-C: exit 1 (findings)" || bad "Ctrl-C: exit $rc, expected 1" "$(head -n 5 "$work/err-first")"
  [ -n "$kept_finding" ] && ok "Ctrl-C: finding kept" || bad "Ctrl-C: no finding left"
  [ "$queued" -ge 3 ] && ok "Ctrl-C: $queued corpus inputs kept" || bad "Ctrl-C: only $queued corpus inputs kept"
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["interrupted"] else 1)' "$D/campaign.json" &&
    ok "Ctrl-C: campaign.json says interrupted" || bad "Ctrl-C: campaign.json does not say interrupted"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["total_findings"] >= 1 else 1)' \
    "$D/summary.json" && ok "Ctrl-C: report written with the finding" || bad "Ctrl-C: summary.json lacks the finding"
  whole_files "Ctrl-C" "$D"

  # -- restart resumes -----------------------------------------------------------------------
  campaign --per-target-seconds 1 --out "$D" >/dev/null 2>"$work/err"
  rc=$?
  loaded=$(sed -n 's/^INFO: loaded \([0-9]*\) inputs$/\1/p' "$D/$T/fuzz.log")
  [ $rc -eq 1 ] && ok "restart: exit 1 (findings)" || bad "restart: exit $rc, expected 1" "$(head -n 5 "$work/err")"
  [ "${loaded:-0}" -ge "$queued" ] && ok "restart: engine resumed from $loaded inputs (>= $queued)" ||
    bad "restart: engine started with ${loaded:-no} inputs, the first run left $queued"
  [ -f "$D/$T/findings/$kept_finding" ] && ok "restart: first run's finding still there" ||
    bad "restart: $kept_finding is gone"
  [ "$(find "$D/corpus/$T" -type f | wc -l)" -ge "$queued" ] && ok "restart: inputs merged into the corpus" ||
    bad "restart: corpus/$T has fewer inputs than the first run found"
  whole_files "restart" "$D"
else
  bad "Ctrl-C: the campaign made no finding / corpus input within 20 s" "$(head -n 5 "$work/err-first")"
fi

# -- two campaigns in one dir --------------------------------------------------------------
D=$work/conc
start_campaign --out "$D"
if wait_for 20 have_finding "$D"; then
  campaign --per-target-seconds 1 --out "$D" >/dev/null 2>"$work/err"
  rc=$?
  [ $rc -eq 2 ] && ok "concurrent: second campaign refused (exit 2)" || bad "concurrent: second campaign exit $rc"
  one_line_error "concurrent" "$work/err" "another campaign is running"
  kill -0 "$first" 2>/dev/null && ok "concurrent: first campaign still running" || bad "concurrent: first campaign died"
  interrupt_campaign
  [ $rc -eq 1 ] && ok "concurrent: first campaign ends normally" || bad "concurrent: first campaign exit $rc"
  whole_files "concurrent" "$D"
else
  bad "concurrent: the first campaign did not start"
fi
first=

# -- full disk -----------------------------------------------------------------------------
# Runs inside `unshare --mount` with a private tmpfs; prints one "rc=N" line per case.
cat >"$work/disk.sh" <<'SH'
set -u
work=$1 src=$2 T=$3
mkdir -p "$work/disk"
mount -t tmpfs -o size=256k tmpfs "$work/disk" || exit 77
run() { timeout -k 5 60 python3 "$src/scripts/campaign" --targets $T --quiet --per-target-seconds 3 --out "$1"; }
# full before the campaign starts
dd if=/dev/zero of="$work/disk/fill" bs=4k 2>/dev/null
run "$work/disk/full" >/dev/null 2>"$work/err-full"
echo "rc=$?" >"$work/rc-full"
cp -a "$work/disk/full" "$work/copy-full" 2>/dev/null
rm -f "$work/disk/fill"
# fills up after the first finding (the engine writes until ENOSPC)
FAKE_ENGINE_FILL=1 run "$work/disk/fills" >/dev/null 2>"$work/err-fills"
echo "rc=$?" >"$work/rc-fills"
sleep 0.5
pgrep -f "$work/disk/fills" >/dev/null && echo "engine left running" >"$work/leftover"
rm -f "$work/disk/fills/$T/queue/fill"
cp -a "$work/disk/fills" "$work/copy-fills"
umount "$work/disk"
SH
if [ "$(id -u)" -eq 0 ]; then ns=(unshare --mount --propagation private); else ns=(unshare --user --map-root-user --mount); fi
timeout -k 5 120 "${ns[@]}" bash "$work/disk.sh" "$work" "$src" "$T" 2>"$work/ns-err"
rc=$?
if [ $rc -eq 77 ] || { [ $rc -ne 0 ] && [ ! -f "$work/rc-full" ]; }; then
  echo "SKIP full disk: cannot mount a tmpfs here ($(head -n 1 "$work/ns-err"))"
else
  [ "$(cat "$work/rc-full")" = rc=2 ] && ok "full disk at start: exit 2" || bad "full disk at start: $(cat "$work/rc-full"), expected rc=2"
  one_line_error "full disk at start" "$work/err-full" "No space left on device"
  [ -d "$work/copy-full" ] && whole_files "full disk at start" "$work/copy-full"
  [ "$(cat "$work/rc-fills")" = rc=2 ] && ok "disk fills mid-run: exit 2" || bad "disk fills mid-run: $(cat "$work/rc-fills"), expected rc=2"
  one_line_error "disk fills mid-run" "$work/err-fills" "disk/fills.*: No space left on device"
  compgen -G "$work/copy-fills/$T/findings/crash-*" >/dev/null && ok "disk fills mid-run: finding kept" ||
    bad "disk fills mid-run: the finding written before the disk filled is gone"
  [ ! -f "$work/leftover" ] && ok "disk fills mid-run: no engine left running" || bad "disk fills mid-run: engine left running"
  whole_files "disk fills mid-run" "$work/copy-fills"
fi

echo "hostile_campaign: $cases checks, $fails failed"
[ $fails -eq 0 ]
