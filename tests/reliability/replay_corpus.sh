#!/usr/bin/env bash
# Replays every seed and regression input of every built-in target with `vqfuzz run` and prints
# one "VERDICT path [CLAUSE] trace=HASH" line per input, targets in `vqfuzz list` order.
# The output depends only on the inputs and the code: determinism checks diff two of them.
#
# usage: replay_corpus.sh VQFUZZ SOURCE_DIR [COMPILED_CORPUS_DIR]
#        replay_corpus.sh --count VQFUZZ SOURCE_DIR   (prints how many lines the source corpus gives)
#   VQFUZZ               the vqfuzz binary of one build
#   SOURCE_DIR           the repository root (corpus/<target>/*.txt, corpus/regressions/<target>/)
#   COMPILED_CORPUS_DIR  optional: build/<preset>/corpus (the seeds as the engines see them)
# Paths are printed relative to SOURCE_DIR (and as "compiled/..." for the compiled seeds), so the
# output of two builds of the same tree is byte-identical when the behaviour is.
# Exit status: 0, or 2 when an input could not be replayed (crash, hang, sanitizer report,
# unreadable input). FAIL / WEDGED verdicts are part of the output, not an error here.
set -uo pipefail
if [ "${1:-}" = --count ]; then
  targets=$("$2" list | awk '{print $1}') || exit 2
  cd "$3" || exit 2
  for t in $targets; do
    for d in "corpus/$t" "corpus/regressions/$t"; do [ -d "$d" ] && find "$d" -type f; done
  done | wc -l
  exit 0
fi
vqfuzz=$1
src=$2
compiled=${3:-}
per_target_timeout=${VQF_REPLAY_TIMEOUT:-120}
cd "$src" || exit 2
status=0
targets=$("$vqfuzz" list | awk '{print $1}') || exit 2
for t in $targets; do
  paths=()
  [ -d "corpus/$t" ] && paths+=("corpus/$t")
  [ -d "corpus/regressions/$t" ] && paths+=("corpus/regressions/$t")
  if [ ${#paths[@]} -gt 0 ]; then
    # exit 1 = findings (reported in the verdict lines); anything else is a broken replay
    timeout -k 5 "$per_target_timeout" "$vqfuzz" run "$t" "${paths[@]}" 2>/dev/null | grep -E '^[A-Z]+ +[^ ]' |
      grep -E 'trace=[0-9a-f]{16}$'
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      echo "replay_corpus: $t: vqfuzz run exited $rc" >&2
      status=2
    fi
  fi
  if [ -n "$compiled" ] && [ -d "$compiled/$t" ]; then
    timeout -k 5 "$per_target_timeout" "$vqfuzz" run "$t" "$compiled/$t" 2>/dev/null |
      grep -E 'trace=[0-9a-f]{16}$' | sed "s#$compiled/#compiled/#"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      echo "replay_corpus: $t (compiled seeds): vqfuzz run exited $rc" >&2
      status=2
    fi
  fi
done
exit $status
