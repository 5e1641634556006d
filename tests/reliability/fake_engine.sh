#!/usr/bin/env bash
# A stand-in for a libFuzzer target binary, for the campaign tests of hostile_campaign.sh (the
# dev and clang builds have no libFuzzer). It speaks the part of libFuzzer's command line and
# output that `vqfuzz campaign` uses, with deterministic behaviour:
#   fuzz mode  (-max_total_time=N ... -artifact_prefix=P DIR...): prints how many inputs the
#              corpus dirs held at start ("INFO: loaded N inputs"), then writes one new input to
#              the first DIR (the run's queue) and a status line every 0.2 s, and one crash input
#              P/crash-<n> after the first step; SIGINT ends it like libFuzzer (exit 72), and
#              it stops by itself after N seconds.
#   merge mode (-merge=1 DST SRC...): copies every SRC input into DST.
#   replay     (-runs=1 FILE): prints a sanitizer-style report (triage reads it).
# FAKE_ENGINE_FILL=1: after the crash input, fill the disk of the queue dir (full-disk test).
set -u
secs=5 prefix=./ merge=0 runs=-1 dirs=()
for a in "$@"; do
  case "$a" in
    -max_total_time=*) secs=${a#*=} ;;
    -artifact_prefix=*) prefix=${a#*=} ;;
    -merge=1) merge=1 ;;
    -runs=*) runs=${a#*=} ;;
    -*) ;;
    *) dirs+=("$a") ;;
  esac
done
if [ "$merge" = 1 ]; then
  for d in "${dirs[@]:1}"; do cp -n "$d"/* "${dirs[0]}"/ 2>/dev/null; done
  exit 0
fi
if [ "$runs" != -1 ]; then
  echo "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000010"
  echo "    #0 0x4a1b01 in fake_engine_bug fake.c:1:1"
  exit 1
fi
n=0
for d in "${dirs[@]}"; do [ -d "$d" ] && n=$((n + $(find "$d" -maxdepth 1 -type f | wc -l))); done
echo "INFO: loaded $n inputs"
trap 'echo "==1== libFuzzer: run interrupted; exiting"; exit 72' INT TERM
queue=${dirs[0]}
start=$SECONDS i=0
while [ $((SECONDS - start)) -lt "$secs" ]; do
  i=$((i + 1))
  echo "input $$-$i" >"$queue/input-$$-$i"
  printf '#%d\tNEW    cov: %d ft: %d corp: %d/1Kb exec/s: 100 rss: 10Mb\n' $((i * 10)) $((i + 5)) $((i + 9)) "$i"
  if [ $i -eq 1 ]; then
    echo "crash $$" >"${prefix}crash-$$"
    [ "${FAKE_ENGINE_FILL:-0}" = 1 ] && dd if=/dev/zero of="$queue/fill" bs=4k 2>/dev/null
  fi
  sleep 0.2
done
exit 0
