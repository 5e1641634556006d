#!/usr/bin/env bash
# ctest reliability_hostile: hostile use of the command-line tool. Every case runs under
# `timeout` (a hang fails the case), and must exit with the documented status (0 nothing
# found, 1 findings, 2 bad usage or unreadable input) with a one-line "vqfuzz: ..." reason on
# stderr for status 2, and never a sanitizer report (ASan / UBSan / LeakSanitizer: this test is
# meant for the ASan builds, where a leak turns the exit status into 23).
# usage: hostile.sh VQFUZZ SOURCE_DIR
set -uo pipefail
vqfuzz=$1
src=$2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
work=$(mktemp -d)
trap 'chmod -R u+rwx "$work" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
fails=0
cases=0
as_nobody=() # a command prefix that drops root (the unreadable-file cases)
T=blk_device
seed=$(ls "$src/corpus/$T"/*.txt | head -n 1)

# check NAME WANT_RC [STDERR_REGEX] -- CMD...: run CMD (vqfuzz arguments) with a 20 s limit.
check() {
  local name=$1 want=$2 re=$3
  shift 4
  cases=$((cases + 1))
  timeout -k 5 20 "${as_nobody[@]}" "$vqfuzz" "$@" >"$work/out" 2>"$work/err" </dev/null
  local rc=$?
  local why=""
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    why="hung (killed after 20 s)"
  elif grep -qE 'Sanitizer|runtime error:|Segmentation|Aborted' "$work/err"; then
    why="sanitizer report or crash"
  elif [ $rc -ne "$want" ]; then
    why="exit status $rc, expected $want"
  elif [ "$want" -eq 2 ] && ! tail -n 1 "$work/err" | grep -qE '^vqfuzz: .+'; then
    why="no one-line 'vqfuzz: reason' on stderr"
  elif [ -n "$re" ] && ! grep -qE -- "$re" "$work/err"; then
    why="stderr does not match /$re/"
  fi
  if [ -n "$why" ]; then
    echo "FAIL $name: $why"
    echo "  cmd: vqfuzz $*"
    sed 's/^/  err: /' "$work/err" | head -n 20
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

# -- usage ---------------------------------------------------------------------------------
check "no command"              2 ''                          --
check "unknown command"         2 "unknown command 'bogus'"   -- bogus
check "run without args"        2 'usage'                     -- run
check "unknown target"          2 "unknown target 'nosuch'"   -- run nosuch "$seed"
check "stress unknown target"   2 "unknown target"            -- stress nosuch --count 1
check "run unknown option"      2 "unknown option '--bogus'"  -- run $T --bogus "$seed"
check "run unknown option last" 2 "unknown option '--bogus'"  -- run $T "$seed" --bogus
check "run only options"        2 ''                          -- run $T --quiet
check "stress unknown option"   2 "unknown option '--bogus'"  -- stress $T --bogus 1
check "stress missing value"    2 "needs a value"             -- stress $T --count
check "stress count not number" 2 "not a number"              -- stress $T --count abc
check "stress count negative"   2 "not a number"              -- stress $T --count -5
check "stress count overflow"   2 "not a number"              -- stress $T --count 99999999999999999999999
check "stress count trailing"   2 "not a number"              -- stress $T --count 10x
check "stress count empty"      2 "not a number"              -- stress $T --count ''
check "stress seconds hex junk" 2 "not a number"              -- stress $T --seconds 0xzz
check "stress seed not number"  2 "not a number"              -- stress $T --count 1 --seed 1.5
check "list unknown arg"        2 "unknown argument"          -- list --bogus
check "clauses unknown arg"     2 "unknown argument"          -- clauses --xml
check "explain unknown clause"  2 "unknown clause"            -- explain NOPE-99
check "explain no clause"       2 'usage'                     -- explain
check "decode two files"        2 'usage'                     -- decode "$seed" "$seed"
check "encode no -o"            2 'usage'                     -- encode "$seed"
check "encode unknown option"   2 "unknown option"            -- encode "$seed" -x -o out.bin
check "encode unwritable out"   2 'cannot write'              -- encode "$seed" -o "$work/no/such/dir/out.bin"
check "fuzz outside wrapper"    2 'wrapper'                   -- fuzz $T

# -- inputs that are not there or not files ------------------------------------------------
check "run missing file"        2 'No such file'              -- run $T "$work/missing.bin"
check "decode missing file"     2 'No such file'              -- decode "$work/missing.bin"
mkdir -p "$work/dir"
check "decode a directory"      2 'not a regular file'        -- decode "$work/dir"
check "run empty directory"     2 'no readable input'         -- run $T "$work/dir"
mkfifo "$work/fifo"
check "run a FIFO"              2 'not a regular file'        -- run $T "$work/fifo"
check "decode a FIFO"           2 'not a regular file'        -- decode "$work/fifo"
check "encode from a FIFO"      2 'not a regular file'        -- encode "$work/fifo" -o "$work/x.bin"
check "run a char device"       2 'not a regular file'        -- run $T /dev/null
check "run trailing slash file" 2 ''                          -- run $T "$seed/"
# a directory without search permission: tests usually run as root, which ignores it, so the
# case accepts a clean run too; as a user it must be a one-line error.
mkdir -p "$work/noexec" && cp "$seed" "$work/noexec/a.txt" && chmod 000 "$work/noexec"
if [ "$(id -u)" -eq 0 ]; then
  check "run dir without x (root)" 0 ''                       -- run $T "$work/noexec"
else
  check "run dir without x"      2 'Permission denied'        -- run $T "$work/noexec"
fi
chmod 755 "$work/noexec"
# An unreadable file. Root reads through mode 000, so as root the case runs the tool as the
# unprivileged user nobody (setpriv); without setpriv it is reported as a SKIP, not passed.
cp "$seed" "$work/unreadable.txt" && chmod 000 "$work/unreadable.txt"
mkdir -p "$work/unreadable-dir" && cp "$seed" "$work/unreadable-dir/a.txt" && cp "$seed" "$work/unreadable-dir/b.txt"
chmod 000 "$work/unreadable-dir/b.txt"
if [ "$(id -u)" -ne 0 ]; then
  check "run unreadable file"     2 'Permission denied'         -- run $T "$work/unreadable.txt"
  check "decode unreadable file"  2 'Permission denied'         -- decode "$work/unreadable.txt"
  check "unreadable file in dir"  2 'b\.txt.*Permission denied' -- run $T "$work/unreadable-dir"
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$vqfuzz"; then
  chmod 711 "$work"
  as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  check "run unreadable file"     2 'Permission denied'         -- run $T "$work/unreadable.txt"
  check "decode unreadable file"  2 'Permission denied'         -- decode "$work/unreadable.txt"
  chmod 755 "$work/unreadable-dir"
  check "unreadable file in dir"  2 'b\.txt.*Permission denied' -- run $T "$work/unreadable-dir"
  as_nobody=()
  chmod 700 "$work"
else
  echo "SKIP unreadable file: running as root without setpriv (root reads mode 000 files)"
fi

# -- empty and oversize inputs -------------------------------------------------------------
# The empty input is the empty program (engines run it too): it runs, it is not an error.
: >"$work/empty.bin"
check "run empty binary"        0 ''                          -- run $T "$work/empty.bin"
: >"$work/empty.txt"
check "run empty text"          0 ''                          -- run $T "$work/empty.txt"
check "decode empty binary"     0 ''                          -- decode "$work/empty.bin"
truncate -s 3M "$work/huge.bin"
check "run file over 1 MiB"     2 'over the limit'            -- run $T "$work/huge.bin"
head -c 8192 /dev/urandom >"$work/big.bin"
check "run binary over program size" 2 'over the program size limit' -- run $T "$work/big.bin"
check "decode binary over program size" 2 'over the program size limit' -- decode "$work/big.bin"

# -- corrupt text programs: every error names the file and the line ------------------------
txterr() { # NAME CONTENT LINE
  printf '%b' "$2" >"$work/bad.txt"
  check "text: $1" 2 "bad\\.txt: line $3: " -- run $T "$work/bad.txt"
  check "text: $1 (encode)" 2 "bad\\.txt: line $3: " -- encode "$work/bad.txt" -o "$work/out.bin"
}
txterr "unknown op"         '# c\nnop\nfrobnicate 1 2\n'        3
txterr "bad number"         'drv_kick q=0x force=zz\n'           1
txterr "number overflow"    'drv_kick q=99999999999999999999999 force=1\n' 1
txterr "unknown operand"    'drv_kick q=0 speed=3\n'             1
txterr "binary junk line"   'nop\nnop\nnop\n\001\002\003\n'     4
txterr "NUL byte in line"   'nop\nno\000p\n'                    2
python3 -c 'import sys; sys.stdout.write("nop\n" * 300)' >"$work/bad.txt"
check "text: too many ops" 2 'bad\.txt: line [0-9]+: ' -- run $T "$work/bad.txt"
python3 -c 'import sys; sys.stdout.write("drv_kick q=" + "1" * 100000 + "\n")' >"$work/bad.txt"
check "text: very long line" 2 'bad\.txt: line 1: ' -- run $T "$work/bad.txt"
# a corrupt file among good ones: the good ones run, the run still fails with status 2
mkdir -p "$work/mixed" && cp "$seed" "$work/mixed/a.txt" && printf 'frob\n' >"$work/mixed/b.txt"
check "dir with a corrupt text" 2 'b\.txt: line 1: '          -- run $T "$work/mixed"

# -- directories, symlinks, non-regular files ----------------------------------------------
mkdir -p "$work/tree/sub/subsub" "$work/tree/other"
cp "$seed" "$work/tree/a.txt"; cp "$seed" "$work/tree/sub/b.txt"; cp "$seed" "$work/tree/sub/subsub/c.txt"
check "run nested directories"  0 '3 inputs'                  -- run $T "$work/tree"
ln -s "$work/tree/a.txt" "$work/tree/other/link-to-file.txt"
check "symlink to a file"       0 '4 inputs'                  -- run $T "$work/tree"
ln -s "$work/tree/sub" "$work/tree/other/link-to-dir"
check "symlink to a directory"  0 '6 inputs'                  -- run $T "$work/tree"
ln -s "$work/nowhere" "$work/tree/other/dangling"
check "dangling symlink inside" 0 'skipping .*dangling'       -- run $T "$work/tree"
check "dangling symlink given"  2 'No such file'              -- run $T "$work/tree/other/dangling"
ln -s self-loop "$work/tree/other/self-loop"
check "self-looping symlink"    0 'skipping .*self-loop'      -- run $T "$work/tree"
mkfifo "$work/tree/other/fifo"
check "FIFO inside a directory" 0 'skipping .*fifo'           -- run $T "$work/tree"
mkdir -p "$work/loop/d"; cp "$seed" "$work/loop/d/a.txt"
ln -s .. "$work/loop/d/up1"; ln -s .. "$work/loop/d/up2"; ln -s . "$work/loop/d/here"
check "directory symlink loops" 0 'skipping .*(up1|here).*loop' -- run $T "$work/loop"

# -- the tool still works after all that (sanity: the cases above did fail for their reason) -
check "valid text program"      0 '1 inputs'                  -- run $T "$seed"
check "stress smoke"            0 ''                          -- stress rng_device --count 4 --out "$work/stress"
echo "hostile: $cases cases, $fails failed"
[ $fails -eq 0 ]
