#!/usr/bin/env bash
# Usage: test_oss_fuzz_build.sh VQFUZZ_SOURCE_DIR SCRATCH_DIR C_COMPILER
# A user-style CMake project with two fuzz targets and one ordinary tool is built by
# scripts/oss-fuzz-build.sh with a home-made engine library as LIB_FUZZING_ENGINE; the test
# asserts which targets are installed and what goes with them, then feeds the file checks of
# scripts/oss-fuzz-check good and broken .dict/.options/zip files.
set -uo pipefail
root=$1 t=$2 cc=$3
rm -rf "$t" && mkdir -p "$t"
passed=0 failed=0
check() { # description, command...
  local what=$1; shift
  if "$@" >>"$t/log" 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
not() { ! "$@"; }

# --- the project ---------------------------------------------------------------------------
p="$t/proj"
mkdir -p "$p/corpus/alpha" "$p/corpus/regressions/alpha" "$p/corpus/beta"
cat >"$p/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(userproj C)
set(LIB_FUZZING_ENGINE "" CACHE STRING "engine flag or library")
foreach(name alpha beta)
  add_executable(fz_${name} ${name}.c)
  set_target_properties(fz_${name} PROPERTIES OUTPUT_NAME ${name})
  target_link_libraries(fz_${name} PRIVATE ${LIB_FUZZING_ENGINE})
endforeach()
add_executable(tool tool.c)
CM
for n in alpha beta; do
  cat >"$p/$n.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Returns 1 on the byte 'X' so that the test can tell the input really reached it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return size > 0 && data[0] == 'X'; }
C
done
echo 'int main(void) { return 0; }' >"$p/tool.c"
printf '# tokens\nkw="\\x01\\x02"\n"virt"\n' >"$p/corpus/alpha.dict"
printf '[libfuzzer]\nmax_len = 64\ndict = alpha.dict\n' >"$p/corpus/alpha.options"
printf 'A' >"$p/corpus/alpha/s1.bin"
printf 'text seed, compiled elsewhere' >"$p/corpus/alpha/s2.txt"
printf 'Z' >"$p/corpus/regressions/alpha/r1.bin"
printf '# what each input was\n' >"$p/corpus/regressions/alpha/README.md"
printf 'B' >"$p/corpus/beta/s1.bin"

# --- the engine: a replay main, exits with the sum of the target's return values -----------
cat >"$t/engine.c" <<'C'
#include <stdint.h>
#include <stdio.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv)
{
    int sum = 0;
    for (int i = 1; i < argc; i++) {
        uint8_t buf[256];
        FILE *f = fopen(argv[i], "rb");
        if (!f)
            return 100;
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        sum += LLVMFuzzerTestOneInput(buf, n);
    }
    return sum;
}
C
"$cc" -c "$t/engine.c" -o "$t/engine.o" && ar rcs "$t/libengine.a" "$t/engine.o" || { echo "cannot build the engine"; exit 1; }

# The project is C only; CXX is passed because OSS-Fuzz always sets it.
case "$cc" in *clang*) cxx="${cc}++" ;; *) cxx="${cc%gcc*}g++${cc##*gcc}" ;; esac
build() { # out-dir [extra env...]
  local out=$1; shift
  env CC="$cc" CXX="$cxx" CFLAGS="" CXXFLAGS="" LIB_FUZZING_ENGINE="$t/libengine.a" \
    SANITIZER=none WORK="$t/work" OUT="$out" "$@" bash "$root/scripts/oss-fuzz-build.sh" "$p"
}

# 1. No list: the executables that link the engine are the fuzz targets, the tool is not.
o="$t/out1"
check "build of the project" build "$o"
check "alpha installed and executable" test -x "$o/alpha"
check "beta installed and executable" test -x "$o/beta"
check "the tool (no engine on its link line) is not installed" not test -e "$o/tool"
check "the installed names are listed for the checker" test "$(sort "$t/work/oss-fuzz-targets.txt" | paste -sd ' ')" = "alpha beta"
check "alpha.dict and alpha.options installed" test -f "$o/alpha.dict" -a -f "$o/alpha.options"
check "beta has no dict (none in corpus/)" not test -e "$o/beta.dict"
zip_names=$(python3 -c 'import sys, zipfile; print(" ".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))' "$o/alpha_seed_corpus.zip" 2>/dev/null)
check "alpha seed zip: the raw seed and the regression input, no text, flat" test "$zip_names" = "regression-r1.bin s1.bin"
check "installed alpha runs its seed and the engine reaches the target" "$o/alpha" "$p/corpus/alpha/s1.bin"
printf 'X' >"$t/x.bin"
check "installed alpha returns the target's result for input X" test "$("$o/alpha" "$t/x.bin"; echo $?)" = 1
check "file checks accept the installed files" bash "$root/scripts/oss-fuzz-check" --check-out "$o" alpha beta

# 2. A list file selects targets by CMake name or output name; an unknown name is an error.
o="$t/out2"
printf '# only beta\nfz_beta\n' >"$t/list"
check "build with a target list" build "$o" VQF_FUZZ_TARGETS_FILE="$t/list"
check "listed beta installed" test -x "$o/beta"
check "unlisted alpha not installed" not test -e "$o/alpha"
printf 'alpha\nnosuch\n' >"$t/list"
check "a listed target the project does not define fails the build" not build "$t/out3" VQF_FUZZ_TARGETS_FILE="$t/list"

# 3. The file checks reject what OSS-Fuzz would reject or silently ignore.
b="$t/bad"
mkdir -p "$b/d/sub"
cp "$o/beta_seed_corpus.zip" "$b/ok_seed_corpus.zip"
printf '[libfuzzer]\nmax_len = 64\n' >"$b/ok.options"
for n in baddict badescape longdict nosection nodict badzip; do cp "$b/ok_seed_corpus.zip" "$b/${n}_seed_corpus.zip"; done
printf 'kw=unquoted\n' >"$b/baddict.dict"
printf 'kw="\\x4"\n' >"$b/badescape.dict"
printf '"%s"\n' "$(printf 'a%.0s' $(seq 65))" >"$b/longdict.dict"
printf '[afl]\ntimeout = 5\n' >"$b/nosection.options"
printf '[libfuzzer]\ndict = missing.dict\n' >"$b/nodict.options"
rm "$b/badzip_seed_corpus.zip"; echo 1 >"$b/d/sub/f"; (cd "$b/d" && zip -qr "$b/badzip_seed_corpus.zip" .)
check "good files pass" bash "$root/scripts/oss-fuzz-check" --check-out "$b" ok
for n in baddict badescape longdict nosection nodict badzip; do
  check "$n is rejected" not bash "$root/scripts/oss-fuzz-check" --check-out "$b" "$n"
done
check "a target without seed zip is rejected" not bash "$root/scripts/oss-fuzz-check" --check-out "$b" noseeds

[ $failed -eq 0 ] || { echo "--- log:"; tail -40 "$t/log"; }
echo "oss_fuzz_build: $passed passed, $failed failed"
[ $failed -eq 0 ]
