#!/usr/bin/env bash
# Builds the fuzz targets of a CMake project under the OSS-Fuzz build contract and installs
# them into $OUT. Called by oss-fuzz/build.sh and .clusterfuzzlite/build.sh inside their
# builder images, and by scripts/oss-fuzz-check here (same script, same environment).
#
# Usage: scripts/oss-fuzz-build.sh [PROJECT_SOURCE_DIR]
#   PROJECT_SOURCE_DIR  the CMake project to build (default: $VQF_PROJECT_SRC, else this
#                       repository). A project that uses the vqfuzz adapters builds the same way.
# Environment (set by OSS-Fuzz; sensible defaults here):
#   CC CXX CFLAGS CXXFLAGS   compilers and flags; sanitizer and coverage flags come in CFLAGS
#   LIB_FUZZING_ENGINE       a link flag (-fsanitize=fuzzer) or a library (libAFLDriver.a)
#   SANITIZER                address|undefined|memory|coverage|... (only reported here)
#   WORK OUT                 the build directory root and the install directory
#   VQF_FUZZ_TARGETS_FILE    optional list of the fuzz targets to install (see below)
#   VQF_CORPUS_DIR           where <name>.dict, <name>.options and <name>/ seeds live
#                            (default: PROJECT_SOURCE_DIR/corpus)
#   VQF_CMAKE_ARGS           extra arguments for the configure step (word-split)
#
# Which targets: no hand-kept list. After configuring, the script asks CMake (its file API)
# for every executable target, and keeps
#   - the ones named in VQF_FUZZ_TARGETS_FILE (or PROJECT_SOURCE_DIR/fuzz-targets.txt) if that
#     file exists: one CMake target name or output name per line, '#' starts a comment;
#   - otherwise every executable whose link line carries $LIB_FUZZING_ENGINE: that is what
#     makes a fuzz target under this contract, and the engine builds of vqfuzz link only the
#     targets/*.c executables with it.
# The installed name is the executable's file name (OUTPUT_NAME): vqfuzz's targets/mmio.c
# installs as $OUT/mmio.
#
# Per target <name>, into $OUT: the binary, <name>.dict and <name>.options (copied from the
# corpus dir, else from <build>/corpus/ when the build generates them) and <name>_seed_corpus.zip: the compiled seeds the build made in
# <build>/corpus/<name>/ (raw files of <corpus>/<name>/ other than *.txt/*.md when the build
# made none) plus the inputs of <corpus>/regressions/<name>/. The names installed are listed
# in $WORK/oss-fuzz-targets.txt.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${1:-${VQF_PROJECT_SRC:-$(cd "$here/.." && pwd)}}
src=$(cd "$src" && pwd)
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}" "${SANITIZER:=address}"
: "${WORK:=$src/build/oss-fuzz-work}" "${OUT:=$src/build/oss-fuzz-out}"
corpus_dir=${VQF_CORPUS_DIR:-$src/corpus}
targets_file=${VQF_FUZZ_TARGETS_FILE:-$src/fuzz-targets.txt}
jobs=${VQF_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
build="$WORK/$(basename "$src")-build"
export CC CXX CFLAGS CXXFLAGS

say() { echo "oss-fuzz-build: $*" >&2; }
die() { say "error: $*"; exit 1; }
command -v cmake >/dev/null || die "cmake not found"
command -v python3 >/dev/null || die "python3 not found (needed to read CMake's file API)"
command -v zip >/dev/null || die "zip not found"
say "project $src, sanitizer $SANITIZER, engine '$LIB_FUZZING_ENGINE', CC=$CC CXX=$CXX"
mkdir -p "$build" "$OUT"

# Ask CMake for its code model: a query file makes the configure step write the reply.
mkdir -p "$build/.cmake/api/v1/query"
: >"$build/.cmake/api/v1/query/codemodel-v2"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
[ -f "$build/CMakeCache.txt" ] && gen=() # the generator of an existing build cannot change
# With libFuzzer every object is built with SanitizerCoverage, tools that run at build time
# (vqfuzz's seed compiler) included; they link no engine, so they need the coverage hooks of
# -fsanitize=fuzzer-no-link at link time. The sanitizer runtimes provide them too, but
# OSS-Fuzz's coverage build has no sanitizer.
ldflags=${LDFLAGS:-}
case "$LIB_FUZZING_ENGINE" in -fsanitize=fuzzer*) ldflags="$ldflags -fsanitize=fuzzer-no-link" ;; esac
# The sanitizers and the coverage flags come from CFLAGS (OSS-Fuzz's way), so the project's own
# switches for them stay off; -Werror stays off because OSS-Fuzz's compiler is newer than ours.
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" "${gen[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_EXE_LINKER_FLAGS="$ldflags" \
  -DLIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DVQF_SANITIZE= -DVQF_COVERAGE=OFF \
  -DVQF_WERROR=OFF -DVQF_BUILD_TESTS=OFF -DVQF_BUILD_BENCH=OFF \
  ${VQF_CMAKE_ARGS:-} >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; die "configure failed"; }

# One line per selected target: cmake-name <TAB> artifact path (relative to the build dir).
# A "vqf_seeds" utility target (vqfuzz's seed compiler step) is built too when the project has one.
select_py='
import glob, json, os, sys
build, engine, listfile = sys.argv[1], sys.argv[2], sys.argv[3]
reply = os.path.join(build, ".cmake", "api", "v1", "reply")
index = sorted(glob.glob(os.path.join(reply, "index-*.json")))[-1]
with open(index) as f:
    cm_file = json.load(f)["reply"]["codemodel-v2"]["jsonFile"]
with open(os.path.join(reply, cm_file)) as f:
    config = json.load(f)["configurations"][0]
wanted = None
if listfile and os.path.isfile(listfile):
    with open(listfile) as f:
        wanted = {l.split("#", 1)[0].strip() for l in f} - {""}
found = set()
for t in config["targets"]:
    with open(os.path.join(reply, t["jsonFile"])) as f:
        tj = json.load(f)
    if tj["name"] == "vqf_seeds":
        print("vqf_seeds\t")
        continue
    if tj["type"] != "EXECUTABLE" or not tj.get("artifacts"):
        continue
    path = tj["artifacts"][0]["path"]
    out_name = os.path.basename(path)
    if wanted is not None:
        hit = wanted & {tj["name"], out_name}
        if not hit:
            continue
        found |= hit
    else:
        frags = []
        for fr in tj.get("link", {}).get("commandFragments", []):
            frags += fr["fragment"].split()
        if not engine.split() or not set(engine.split()) <= set(frags):
            continue
    print(tj["name"] + "\t" + path)
if wanted is not None and wanted - found:
    sys.exit("targets listed in %s but not defined: %s" % (listfile, " ".join(sorted(wanted - found))))
'
sel=$(python3 -c "$select_py" "$build" "$LIB_FUZZING_ENGINE" "$targets_file") || die "cannot list the fuzz targets"
cm_targets=() names=() paths=()
while IFS=$'\t' read -r tname tpath; do
  cm_targets+=("$tname")
  [ -n "$tpath" ] || continue
  names+=("$(basename "$tpath")")
  paths+=("$tpath")
done <<<"$sel"
[ ${#paths[@]} -gt 0 ] || die "no fuzz target found (no executable links '$LIB_FUZZING_ENGINE'; list them in fuzz-targets.txt)"
say "${#paths[@]} fuzz targets: ${names[*]}"
# The list of what this build installs, for scripts/oss-fuzz-check (not part of $OUT).
printf '%s\n' "${names[@]}" >"$WORK/oss-fuzz-targets.txt"

cmake --build "$build" -j "$jobs" --target "${cm_targets[@]}" >"$build/build.log" 2>&1 \
  || { tail -60 "$build/build.log" >&2; die "build failed (full log: $build/build.log)"; }

seeds_tmp="$WORK/seeds"
for i in "${!paths[@]}"; do
  name=${names[$i]}
  bin="$build/${paths[$i]}"
  [ -x "$bin" ] || die "$name: not built at $bin"
  cp -f "$bin" "$OUT/$name"
  for ext in dict options; do
    for f in "$corpus_dir/$name.$ext" "$build/corpus/$name.$ext"; do
      if [ -f "$f" ]; then cp -f "$f" "$OUT/$name.$ext"; break; fi
    done
  done
  # The seed corpus: flat, regular files only (OSS-Fuzz unpacks it as the initial corpus).
  rm -rf "${seeds_tmp:?}/$name" && mkdir -p "$seeds_tmp/$name"
  if [ -d "$build/corpus/$name" ]; then
    find "$build/corpus/$name" -maxdepth 1 -type f -exec cp -f {} "$seeds_tmp/$name/" \;
  elif [ -d "$corpus_dir/$name" ]; then
    find "$corpus_dir/$name" -maxdepth 1 -type f ! -name '*.txt' ! -name '*.md' -exec cp -f {} "$seeds_tmp/$name/" \;
  fi
  if [ -d "$corpus_dir/regressions/$name" ]; then
    for f in "$corpus_dir/regressions/$name"/*; do
      case "$f" in *.md|*.txt) continue ;; esac
      if [ -f "$f" ]; then cp -f "$f" "$seeds_tmp/$name/regression-$(basename "$f")"; fi
    done
  fi
  rm -f "$OUT/${name}_seed_corpus.zip"
  if [ -n "$(ls -A "$seeds_tmp/$name")" ]; then
    (cd "$seeds_tmp/$name" && zip -q -X -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
  say "installed $name ($(ls "$seeds_tmp/$name" | wc -l) seeds)"
done
