#!/usr/bin/env bash
# Cross-build determinism: the same corpus replayed by the vqfuzz binaries of several builds
# (gcc vs clang, with and without ASan, -O1 vs -O2) must give byte-identical verdict lines
# ("VERDICT path [CLAUSE] trace=HASH"). A difference means behaviour depends on the compiler
# or on undefined behaviour, not on the input. Each build replays the corpus twice, in two
# fresh processes per target, and must agree with itself too (the ctest reliability_determinism
# does this for the build it runs in; here it also covers builds without sanitizers).
# scripts/test runs it over gcc and clang, each with ASan+UBSan and without sanitizers.
#
# usage: tests/reliability/cross_build.sh BUILD_DIR BUILD_DIR [BUILD_DIR...]
#   e.g. tests/reliability/cross_build.sh build/dev build/clang build/release
# Each BUILD_DIR must have harness/cli/vqfuzz built. Exit 0 when all agree, 1 otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
builds=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
i=0
for b in "$@"; do
  bin="$b/harness/cli/vqfuzz"
  [ -x "$bin" ] || { echo "cross_build: $bin is not built" >&2; exit 2; }
  bin=$(cd "$(dirname "$bin")" && pwd)/vqfuzz
  # only the source corpus: compiled seeds live in each build and would name different paths
  "$here/replay_corpus.sh" "$bin" "$root" >"$work/$i" || { echo "cross_build: replay broke in $b"; exit 1; }
  "$here/replay_corpus.sh" "$bin" "$root" >"$work/again" || { echo "cross_build: second replay broke in $b"; exit 1; }
  if ! diff -u "$work/$i" "$work/again" >"$work/diff"; then
    echo "cross_build: two runs of $b disagree:"
    head -40 "$work/diff"
    exit 1
  fi
  i=$((i + 1))
done
n=$(wc -l <"$work/0")
# the whole corpus: one line for every file of corpus/<target>/ and corpus/regressions/<target>/
want=$("$here/replay_corpus.sh" --count "$bin" "$root")
[ "$n" -ge 20 ] && [ "$n" -eq "$want" ] || { echo "cross_build: $n inputs replayed, the corpus has $want"; exit 1; }
fail=0
for ((j = 1; j < i; j++)); do
  if ! diff -u "$work/0" "$work/$j" >"$work/diff"; then
    echo "cross_build: ${builds[0]} and ${builds[$j]} disagree:"
    head -40 "$work/diff"
    fail=1
  fi
done
[ $fail -eq 0 ] && echo "cross_build: $n inputs, identical verdicts and trace hashes in $i builds, two runs each"
exit $fail
