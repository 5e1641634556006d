"""Source-based coverage of a corpus (clang -fprofile-instr-generate -fcoverage-mapping).

The coverage build (preset `coverage`, replay engine) runs every input of a target once; the
profiles of all targets are merged into one, so that a file reached by several targets (the
rings are used by every one) counts each line once. Written to OUT/:

  report.txt      llvm-cov report of emulator/ (per file: regions, functions, lines, branches)
  summary.json    {"files": {path: {"lines": {...}, "branches": {...}}}, "groups": {...}, ...}
  html/index.html llvm-cov show, every file of emulator/
  all.profdata    the merged profile

Groups are sums of the line and branch counts of a set of files. "ring" is the split and
packed ring modules with the inline fast paths of their headers (the campaign bar); the
fast paths run only when no observer is attached to guest memory, which the executor always
attaches, so "ring (.c)" is given beside it."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from .common import ROOT, write_json, write_text

RING_C = ["emulator/ring/split.c", "emulator/ring/packed.c"]
RING_H = ["emulator/ring/split.h", "emulator/ring/packed.h", "emulator/ring/ring_hot.h"]
GROUPS = [("ring", "split + packed ring modules, with their headers' inline fast paths", RING_C + RING_H),
          ("ring_c", "split.c + packed.c", RING_C),
          ("emulator", "all of emulator/", None)]
# Built-in target binaries of a build tree: targets/<name> (user adapters: examples/<name>).
REPLAY_DONE = re.compile(r"^replay: (\d+) inputs", re.M)


class CoverageError(Exception):
    pass


def llvm_tools():
    """llvm-profdata and llvm-cov of the clang that builds the coverage tree."""
    ver = ""
    try:
        out = subprocess.run(["clang", "--version"], stdout=subprocess.PIPE, check=True).stdout.decode()
        m = re.search(r"clang version (\d+)", out)
        ver = m.group(1) if m else ""
    except (OSError, subprocess.CalledProcessError):
        pass
    tools = []
    for name in ("llvm-profdata", "llvm-cov"):
        path = (shutil.which("%s-%s" % (name, ver)) if ver else None) or shutil.which(name)
        if not path:
            raise CoverageError("%s not found (Debian package llvm)" % name)
        tools.append(path)
    return tools


def coverage_build():
    return os.environ.get("VQF_COVERAGE_BUILD", os.path.join(ROOT, "build", "coverage"))


def build(bdir, targets, log):
    """Configure (once) and build the coverage tree: the given targets and their seeds (None: all)."""
    with open(log, "w") as lf:
        if not os.path.exists(os.path.join(bdir, "build.ninja")):
            r = subprocess.run(["cmake", "--preset", "coverage", "-B", bdir, "-DVQF_BUILD_TESTS=OFF"],
                               cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT)
            if r.returncode:
                raise CoverageError("configure of %s failed (log: %s)" % (bdir, log))
        what = ["--target"] + ["vqf_fuzz_" + t for t in targets] + ["vqf_seeds"] if targets else []
        r = subprocess.run(["cmake", "--build", bdir, "-j", str(os.cpu_count() or 1)] + what,
                           cwd=ROOT, stdout=lf, stderr=subprocess.STDOUT)
        if r.returncode:
            raise CoverageError("build of %s failed (log: %s)" % (bdir, log))


def input_files(dirs):
    files = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for base, subs, names in os.walk(d):
            subs[:] = sorted(s for s in subs if not s.startswith("."))
            files += [os.path.join(base, n) for n in sorted(names) if not n.startswith(".")
                      and not n.endswith((".txt", ".md", ".log"))]
    return files


def replay(binary, files, rawdir, tag, chunk=400):
    """Run every file once under the coverage build. An input that fails (FAIL / WEDGED abort,
    as under an engine) loses the profile of its process: the chunk is run again without it.
    Returns (inputs run, [inputs skipped])."""
    skipped, done = [], 0
    todo = list(files)
    n = 0
    while todo:
        part, todo = todo[:chunk], todo[chunk:]
        while part:
            n += 1
            env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(rawdir, "%s-%d-%%p.profraw" % (tag, n)),
                       ASAN_OPTIONS="detect_leaks=0")
            p = subprocess.run([binary] + part, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            out = p.stdout.decode(errors="replace")
            if REPLAY_DONE.search(out):
                done += len(part)
                break
            # The last "PATH: " line names the input that aborted; run the rest again without it.
            bad = None
            for line in out.splitlines():
                for f in part:
                    if line.startswith(f + ": "):
                        bad = f
            if bad is None:
                skipped += part
                break
            skipped.append(bad)
            part = [f for f in part if f != bad]
    return done, skipped


def summarize(export, root=ROOT):
    """Per-file line and branch counts from `llvm-cov export -summary-only`, paths relative to root."""
    files = {}
    for data in export.get("data", []):
        for f in data.get("files", []):
            path = os.path.relpath(f["filename"], root)
            s = f["summary"]
            files[path] = {k: {"count": s[k]["count"], "covered": s[k]["covered"],
                               "percent": round(s[k]["percent"], 2) if s[k]["count"] else None}
                           for k in ("lines", "branches", "functions", "regions") if k in s}
    groups = {}
    for key, what, members in GROUPS:
        paths = [p for p in files if (members is None and p.startswith("emulator/")) or
                 (members is not None and p in members)]
        g = {"what": what, "files": sorted(paths)}
        for k in ("lines", "branches"):
            count = sum(files[p][k]["count"] for p in paths if k in files[p])
            cov = sum(files[p][k]["covered"] for p in paths if k in files[p])
            g[k] = {"count": count, "covered": cov, "percent": round(100.0 * cov / count, 2) if count else None}
        groups[key] = g
    return files, groups


def measure(targets, dirs_of, out, bdir=None, html=True, quiet=False):
    """Build, replay every target over dirs_of(target), merge, and write OUT/ (module doc).
    Returns the summary dict (also OUT/summary.json)."""
    bdir = bdir or coverage_build()
    profdata, cov = llvm_tools()
    os.makedirs(out, exist_ok=True)
    build(bdir, targets, os.path.join(out, "build.log"))
    per_target = {}
    objs = []
    with tempfile.TemporaryDirectory(prefix="vqf-cov-") as raw:
        for t in targets:
            binary = os.path.join(bdir, "targets", t)
            if not os.access(binary, os.X_OK):
                raise CoverageError("no coverage binary for target '%s'" % t)
            dirs = [os.path.join(bdir, "corpus", t)] + list(dirs_of(t))
            files = input_files(dirs)
            done, skipped = replay(binary, files, raw, t)
            per_target[t] = {"inputs": done, "skipped_failing": [os.path.relpath(f, ROOT) for f in skipped],
                             "dirs": [os.path.relpath(d, ROOT) for d in dirs if os.path.isdir(d)]}
            objs.append(binary)
            if not quiet:
                print("coverage: %-16s %6d inputs%s" % (t, done, (", %d failing skipped" % len(skipped))
                                                         if skipped else ""), flush=True)
        raws = [os.path.join(raw, n) for n in os.listdir(raw) if n.endswith(".profraw")]
        if not raws:
            raise CoverageError("nothing replayed")
        pd = os.path.join(out, "all.profdata")
        subprocess.run([profdata, "merge", "-sparse", "-o", pd] + raws, check=True)
    args = [objs[0]] + [x for o in objs[1:] for x in ("-object", o)] + ["-instr-profile=" + pd]
    src = os.path.join(ROOT, "emulator")
    rep = subprocess.run([cov, "report"] + args + [src], stdout=subprocess.PIPE, check=True).stdout.decode()
    write_text(os.path.join(out, "report.txt"), rep)
    exp = json.loads(subprocess.run([cov, "export", "-summary-only"] + args + [src], stdout=subprocess.PIPE,
                                    check=True).stdout.decode())
    if html:
        shutil.rmtree(os.path.join(out, "html"), ignore_errors=True)
        subprocess.run([cov, "show", "-format=html", "-show-branches=count", "-output-dir=" + os.path.join(out, "html")]
                       + args + [src], stdout=subprocess.DEVNULL, check=True)
    files, groups = summarize(exp)
    summary = {"targets": per_target, "files": files, "groups": groups}
    write_json(os.path.join(out, "summary.json"), summary)
    return summary


def fmt_pct(x):
    return "-" if x is None else "%.1f%%" % x


def group_line(g):
    return "lines %s (%d/%d), branches %s (%d/%d)" % (
        fmt_pct(g["lines"]["percent"]), g["lines"]["covered"], g["lines"]["count"],
        fmt_pct(g["branches"]["percent"]), g["branches"]["covered"], g["branches"]["count"])


def as_text(summary):
    lines = []
    for key, _what, _m in GROUPS:
        g = summary["groups"][key]
        lines.append("%-9s %s  (%s)" % (key, group_line(g), g["what"]))
    lines.append("")
    for p in sorted(summary["files"]):
        if p.startswith("emulator/ring/"):
            f = summary["files"][p]
            lines.append("  %-28s lines %7s  branches %7s" % (p, fmt_pct(f["lines"]["percent"]),
                                                               fmt_pct(f.get("branches", {}).get("percent"))))
    return "\n".join(lines) + "\n"


def builtin_targets(bdir):
    tdir = os.path.join(bdir, "targets")
    if not os.path.isdir(tdir):
        return []
    return sorted(n for n in os.listdir(tdir) if os.path.isfile(os.path.join(tdir, n)) and
                  os.access(os.path.join(tdir, n), os.X_OK) and "." not in n)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vqfuzz coverage",
                                 description="source coverage of the seeds, regressions and campaign corpora")
    ap.add_argument("targets", nargs="*", help="targets (default: every built-in target)")
    ap.add_argument("--corpus", action="append", default=[],
                    help="a campaign dir or corpus root holding <target>/ folders (repeatable; default: "
                         "reports/corpus and reports/campaign/corpus)")
    ap.add_argument("--out", default=os.path.join(ROOT, "reports", "coverage"))
    ap.add_argument("--min", type=float, default=None, help="exit 1 when emulator/ line coverage is below PCT")
    ap.add_argument("--ring-min", default=None, metavar="LINES:BRANCHES",
                    help="exit 1 when the ring group (split + packed) is below these percentages")
    ap.add_argument("--no-html", action="store_true")
    a = ap.parse_args(argv)
    ring_min = None
    if a.ring_min:
        try:
            lo, _, bo = a.ring_min.partition(":")
            ring_min = (float(lo), float(bo) if bo else None)
        except ValueError:
            print("vqfuzz: coverage: --ring-min wants LINES:BRANCHES percentages, e.g. 90:80", file=sys.stderr)
            return 2
    bdir = coverage_build()
    roots = a.corpus or [os.path.join(ROOT, "reports", "corpus"), os.path.join(ROOT, "reports", "campaign", "corpus")]
    roots = [os.path.join(r, "corpus") if os.path.isdir(os.path.join(r, "corpus")) else r for r in roots]
    try:
        targets = a.targets
        if not targets:
            os.makedirs(a.out, exist_ok=True)
            build(bdir, None, os.path.join(a.out, "build.log"))
            targets = builtin_targets(bdir)
        s = measure(targets, lambda t: [os.path.join(ROOT, "corpus", "regressions", t)] +
                    [os.path.join(r, t) for r in roots], a.out, bdir, html=not a.no_html)
    except (CoverageError, subprocess.CalledProcessError) as e:
        print("vqfuzz: coverage: %s" % e, file=sys.stderr)
        return 2
    sys.stdout.write(as_text(s))
    print("report: %s, html: %s" % (os.path.join(a.out, "report.txt"), os.path.join(a.out, "html", "index.html")))
    rc = 0
    if a.min is not None and (s["groups"]["emulator"]["lines"]["percent"] or 0) < a.min:
        print("vqfuzz: coverage: emulator/ lines below %.1f%%" % a.min, file=sys.stderr)
        rc = 1
    if ring_min:
        g = s["groups"]["ring"]
        lo, bo = ring_min
        if (g["lines"]["percent"] or 0) < lo or (bo is not None and (g["branches"]["percent"] or 0) < bo):
            print("vqfuzz: coverage: ring code below %g%% of lines / %s of branches" % (
                lo, "-" if bo is None else "%g%%" % bo), file=sys.stderr)
            rc = 1
    return rc
