#!/usr/bin/env bash
# ctest reliability_determinism: every corpus and regression input gives the same verdict and
# trace hash in two fresh processes of the same build (no state leaks between processes: no
# uninitialised memory, address-dependent hashing, clock or unseeded randomness reaches a verdict).
# usage: determinism.sh VQFUZZ SOURCE_DIR COMPILED_CORPUS_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/replay_corpus.sh" "$@" >"$work/a" || { echo "determinism: first replay broke"; exit 1; }
"$here/replay_corpus.sh" "$@" >"$work/b" || { echo "determinism: second replay broke"; exit 1; }
n=$(wc -l <"$work/a")
# an empty or partial replay would compare equal and prove little: every file of
# corpus/<target>/ and corpus/regressions/<target>/ must have its line
want=$("$here/replay_corpus.sh" --count "$1" "$2")
got=$(grep -c '^[A-Z]* *corpus/' "$work/a")
if [ "$n" -lt 20 ] || [ "$got" -ne "$want" ]; then
  echo "determinism: $got source corpus inputs replayed, the corpus has $want"
  exit 1
fi
if ! diff -u "$work/a" "$work/b"; then
  echo "determinism: verdicts or trace hashes differ between two runs"
  exit 1
fi
echo "determinism: $n inputs, identical verdicts and trace hashes in two processes"
