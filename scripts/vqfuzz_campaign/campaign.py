"""vqfuzz campaign: every target in its own libFuzzer (or AFL++) process, J at a time.

Layout of DIR (see reports/README.md): campaign.json, DIR/<target>/{fuzz.log, findings/, stats.csv,
result.json, queue/}, DIR/corpus/<target>/ (persistent, merged with -merge=1 after each run),
then triage.json/.txt, minimized/<target>/ and the report files."""
import argparse
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from . import bugs as planted
from . import coverage, report, triage
from .common import ROOT, cli_path, fuzz_build, read_json, target_bin, write_json, write_text

# libFuzzer status lines: "#1234	NEW    cov: 56 ft: 78 corp: 9/1Kb ... exec/s: 1000 rss: 40Mb"
# and in fork mode "#1234: cov: 56 ft: 78 corp: 9 exec/s: 1000 oom/timeout/crash: 0/0/1 time: 5s".
RE_STATUS = re.compile(r"^#(\d+)[:\s].*?cov: (\d+)(?: ft: (\d+))?(?: corp: (\d+))?.*?exec/s:? (\d+)")
RE_CRASHES = re.compile(r"oom/timeout/crash: (\d+)/(\d+)/(\d+)")


class Run:
    """One target's engine process and what its output said so far."""

    def __init__(self, target, outdir, seconds):
        self.target, self.dir, self.seconds = target, os.path.join(outdir, target), seconds
        self.execs = self.eps = self.cov = self.ft = self.corp = 0
        self.proc = None
        self.t0 = None
        self.done = False
        self.rc = None
        self.error = None  # an OSError writing fuzz.log (full disk): the campaign stops on it
        self.series = []  # (t, execs, exec/s, cov, ft, corpus)

    def findings(self):
        fd = os.path.join(self.dir, "findings")
        return len([n for n in os.listdir(fd) if not n.endswith(".log")]) if os.path.isdir(fd) else 0

    def feed(self, line):
        m = RE_STATUS.match(line)
        if not m:
            return
        self.execs, self.cov = int(m.group(1)), int(m.group(2))
        self.ft = int(m.group(3) or self.ft)
        self.corp = int(m.group(4) or self.corp)
        self.eps = int(m.group(5))
        t = round(time.time() - self.t0, 2)
        if not self.series or t - self.series[-1][0] >= 1.0:
            self.series.append((t, self.execs, self.eps, self.cov, self.ft, self.corp))


def libfuzzer_cmd(run, outdir):
    t = run.target
    queue = os.path.join(run.dir, "queue")
    corpus = os.path.join(outdir, "corpus", t)
    os.makedirs(queue, exist_ok=True)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(os.path.join(run.dir, "findings"), exist_ok=True)
    cmd = [target_bin(t), "-max_total_time=%d" % run.seconds, "-timeout=10", "-rss_limit_mb=2048",
           "-max_len=4128", "-print_final_stats=1", "-fork=1", "-ignore_crashes=1", "-ignore_timeouts=1",
           "-ignore_ooms=1", "-artifact_prefix=" + os.path.join(run.dir, "findings") + "/"]
    dic = os.path.join(ROOT, "corpus", t + ".dict")
    if os.path.exists(dic):
        cmd.append("-dict=" + dic)
    cmd += [queue, corpus]
    seeds = os.path.join(fuzz_build(), "corpus", t)
    if os.path.isdir(seeds):
        cmd.append(seeds)
    return cmd


def afl_cmd(run, outdir):
    # The AFL++ path of scripts/fuzz knows the build and mutator; its findings land in
    # reports/findings/<target>/ and are copied over at the end.
    return [os.path.join(ROOT, "scripts", "fuzz"), run.target, "--engine", "afl", "--seconds", str(run.seconds),
            "--quiet"]


def start(run, outdir, engine):
    os.makedirs(run.dir, exist_ok=True)
    cmd = libfuzzer_cmd(run, outdir) if engine == "libfuzzer" else afl_cmd(run, outdir)
    log = open(os.path.join(run.dir, "fuzz.log"), "w")
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    run.t0 = time.time()
    # Own session: a terminal Ctrl-C reaches the campaign only, which then stops each child cleanly.
    run.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=run.dir)
    LIVE.append(run.proc)

    def pump():
        # After a failed write the output is still drained, or the engine would block on the pipe.
        for raw in run.proc.stdout:
            line = raw.decode(errors="replace")
            if run.error is None:
                try:
                    log.write(line)
                except OSError as e:
                    run.error = OSError(e.errno, e.strerror, log.name)
            run.feed(line)
        run.rc = run.proc.wait()
        try:
            log.close()
        except OSError as e:
            run.error = run.error or OSError(e.errno, e.strerror, log.name)
        run.done = True

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    return th


def write_stats(run):
    write_text(os.path.join(run.dir, "stats.csv"), "seconds,execs,exec_per_s,cov,ft,corpus\n" +
               "".join(",".join(str(x) for x in row) + "\n" for row in run.series))
    write_json(os.path.join(run.dir, "result.json"),
               {"target": run.target, "execs": run.execs, "exec_per_s": run.eps, "cov": run.cov, "ft": run.ft,
                "corpus": run.corp, "findings": run.findings(), "seconds": run.seconds, "exit": run.rc})


def merge_corpus(run, outdir):
    """Coverage-preserving merge of what this run found into DIR/corpus/<target> (-merge=1)."""
    queue = os.path.join(run.dir, "queue")
    if not os.path.isdir(queue) or not os.listdir(queue):
        return
    corpus = os.path.join(outdir, "corpus", run.target)
    subprocess.run([target_bin(run.target), "-merge=1", "-timeout=10", "-rss_limit_mb=2048", corpus, queue],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=run.dir)
    shutil.rmtree(queue, ignore_errors=True)


def draw(runs, t0, tty):
    lines = ["vqfuzz campaign  %5.0fs" % (time.time() - t0),
             "%-16s %6s %12s %9s %7s %8s" % ("target", "state", "execs", "exec/s", "cov", "findings")]
    for r in runs:
        state = "done" if r.done else ("run" if r.proc else "wait")
        lines.append("%-16s %6s %12d %9d %7d %8d" % (r.target, state, r.execs, r.eps, r.cov, r.findings()))
    if tty:
        sys.stdout.write("\x1b[H\x1b[J" + "\n".join(lines) + "\n")
        sys.stdout.flush()


def list_targets():
    p = subprocess.run([cli_path(), "list"], stdout=subprocess.PIPE, check=True)
    return [ln.split()[0] for ln in p.stdout.decode().splitlines() if ln.strip()]


def is_builtin(target):
    return os.path.exists(os.path.join(fuzz_build(), "targets", target))


RE_MIN_OPS = re.compile(r"minimized from (\d+) to (\d+) ops")


def replay_signature(target, path, binary=None):
    """Replay one input once (libFuzzer -runs=1) and key its report as triage does."""
    try:
        p = subprocess.run([binary or target_bin(target), "-runs=1", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120,
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"))
        text = p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "libFuzzer: timeout"
    if p.returncode == 0:
        return "PASS"
    return triage.signature(text, os.path.basename(path))[1]


def minimize_one(target, src, base):
    """`vqfuzz minimize` for a built-in target; a target of an adapter (examples, planted-bug
    variants) minimizes in its own binary (VQF_MINIMIZE, harness/fuzz_target.c)."""
    if is_builtin(target):
        cmd, env = [cli_path(), "minimize", target, src, "-o", base], None
    else:
        cmd, env = [target_bin(target), "-runs=1", src], dict(os.environ, VQF_MINIMIZE=base)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return 124, "minimize: timed out after 1800 s\n"


def minimize_bugs(outdir, bugs, quiet, clean_target=None):
    """Minimize each oracle finding (verdict + clause kept), then check the result: the ops it
    has and the key its replay gives (must be the bug's own). With a clean twin (--bug), the
    first input of each bug is replayed on it too: a finding the clean example shares is not
    the planted bug's."""
    for b in bugs:
        if clean_target:
            b["clean_replay"] = replay_signature(clean_target, os.path.join(outdir, b["first_file"]),
                                                 target_bin(clean_target))
        if b["kind"] != "oracle":
            continue  # the program minimizer keeps verdict + clause; crashes keep libFuzzer's input
        dst = os.path.join(outdir, "minimized", b["target"])
        os.makedirs(dst, exist_ok=True)
        base = os.path.join(dst, b["id"])
        rc, out = minimize_one(b["target"], os.path.join(outdir, b["first_file"]), base)
        b["minimized"] = os.path.relpath(base + ".txt", outdir) if rc == 0 else None
        if rc == 0:
            try:
                with open(base + ".txt") as f:
                    m = RE_MIN_OPS.search(f.readline())
            except OSError:
                m = None
            b["ops_before"], b["minimized_ops"] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
            b["minimized_replay"] = replay_signature(b["target"], base + ".bin")
            b["minimized_same"] = b["minimized_replay"] == b["key"]
        if not quiet:
            sys.stdout.write(out)
    write_json(os.path.join(outdir, "triage.json"), bugs)


def merge_planted(outdir, bugs):
    """A campaign over one planted bug (--bug) has a clean twin: the variant differs from it by
    that one defect, so every finding the clean example passes is that defect's, whatever rule
    or sanitizer caught it (a driver that keeps stale ring positions after a queue reset breaks
    SPLIT-AVL-01 in one run and hangs in another: WEDGED). Those entries become one, headed by
    the clause finding with the most inputs; the others stay listed under "also" with their
    counts and minimized programs. Findings the clean example shares stay separate: they are
    the example's or the harness's own."""
    planted = [b for b in bugs if b.get("clean_replay") == "PASS"]
    if len(planted) < 2:
        return bugs
    planted.sort(key=lambda b: (b["verdict"] != "FAIL", b["kind"] != "oracle", -b["count"], b["first_seen"]))
    head = planted[0]
    for m in planted[1:]:
        head.setdefault("also", []).append({k: m.get(k) for k in ("key", "clause", "count", "first_file", "minimized",
                                                                  "minimized_ops", "minimized_replay")})
        head["count"] += m["count"]
        head["files"] += m["files"]
        if m["first_seen"] < head["first_seen"]:
            for k in ("first_seen", "first_seen_s", "first_seen_iso"):
                head[k] = m.get(k)
    head["summary"] = head["key"] + " (also " + ", ".join(a["key"] for a in head["also"]) + ")"
    head["planted"] = True
    out = [b for b in bugs if b not in planted[1:]]
    write_json(os.path.join(outdir, "triage.json"), out)
    write_text(os.path.join(outdir, "triage.txt"), triage.as_text(out))
    return out


def measure_coverage(outdir, targets, quiet):
    """Source coverage of what the campaign reached (seeds, regressions, DIR/corpus) for the
    built-in targets: DIR/coverage/ (coverage.py). A missing toolchain is a note, not a failure."""
    cov_targets = [t for t in targets if is_builtin(t)]
    if not cov_targets:
        return None
    try:
        s = coverage.measure(cov_targets, lambda t: [os.path.join(ROOT, "corpus", "regressions", t),
                                                     os.path.join(outdir, "corpus", t)],
                             os.path.join(outdir, "coverage"), quiet=quiet)
    except (coverage.CoverageError, subprocess.CalledProcessError) as e:
        print("vqfuzz: campaign: no coverage: %s" % e, file=sys.stderr)
        return None
    if not quiet:
        sys.stdout.write(coverage.as_text(s))
    return s


def merge_coverage(target, base, candidates, tmp):
    """New edges of each candidate over the inputs of `base` (libFuzzer -merge=1 control file:
    the files of the output dir run first, then the others smallest first; a COV line lists
    the PCs an input reached that no input before it did). Returns ({candidate: new PCs},
    PCs of base alone, PCs of all)."""
    out = os.path.join(tmp, "out")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for f in base:
        shutil.copy(f, os.path.join(out, os.path.basename(f)))
    cand = os.path.join(tmp, "cand")
    shutil.rmtree(cand, ignore_errors=True)
    os.makedirs(cand)
    for i, f in enumerate(candidates):
        os.symlink(os.path.abspath(f), os.path.join(cand, "%06d" % i))
    cf = os.path.join(tmp, "control")
    if os.path.exists(cf):
        os.unlink(cf)  # an existing control file would make libFuzzer resume the previous merge
    subprocess.run([target_bin(target), "-merge=1", "-timeout=10", "-rss_limit_mb=2048",
                    "-merge_control_file=" + cf, out, cand], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(cf) as f:
        lines = f.read().split("\n")
    n, k = int(lines[0]), int(lines[1])
    names = lines[2:2 + n]
    gain, base_pcs, all_pcs = {}, 0, 0
    for ln in lines[2 + n:]:
        p = ln.split()
        if not p or p[0] != "COV":
            continue
        i, c = int(p[1]), len(p) - 2
        all_pcs += c
        if i < k:
            base_pcs += c
        elif c:
            gain[candidates[int(os.path.basename(names[i]))]] = c
    return gain, base_pcs, all_pcs


def update_seeds(outdir, targets, quiet, cap=20, dest=None):
    """Merge DIR/corpus/<t> back into corpus/<t>/ as text programs, small and coverage-led:
    greedy, one input per round, the campaign input that adds the most edges over the seeds
    and the inputs kept so far (libFuzzer's own edge coverage of the fuzz build), at most
    `cap` per target; an input that adds no edge is never kept. Figures in DIR/update-seeds.json."""
    figures = {}
    for t in targets:
        camp = os.path.join(outdir, "corpus", t)
        seeds_dir = os.path.join(fuzz_build(), "corpus", t)
        if not os.path.isdir(camp) or not os.listdir(camp):
            continue
        seeds = sorted(os.path.join(seeds_dir, n) for n in os.listdir(seeds_dir)) if os.path.isdir(seeds_dir) else []
        cands = sorted(os.path.join(camp, n) for n in os.listdir(camp))
        kept = []
        with tempfile.TemporaryDirectory(prefix="vqf-seeds-") as tmp:
            gain, base_pcs, all_pcs = merge_coverage(t, seeds, cands, tmp)
            first = dict(seeds_edges=base_pcs, campaign_edges=all_pcs)
            while gain and len(kept) < cap:
                best = max(sorted(gain), key=lambda f: gain[f])
                kept.append((best, gain[best]))
                rest = [f for f in gain if f != best]
                gain, _, _ = merge_coverage(t, seeds + [f for f, _ in kept], rest, tmp) if rest else ({}, 0, 0)
            final = merge_coverage(t, seeds + [f for f, _ in kept], [], tmp)[1] if kept else base_pcs
        added = []
        for f, g in kept:
            p = subprocess.run([cli_path(), "decode", f], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if p.returncode != 0:
                continue
            name = "campaign_%s.txt" % hashlib.sha1(p.stdout).hexdigest()[:12]
            path = os.path.join(dest or os.path.join(ROOT, "corpus"), t, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not os.path.exists(path):
                with open(path, "wb") as fh:
                    fh.write(b"# from a campaign: %d edges the seeds did not reach (vqfuzz campaign --update-seeds)\n"
                             % g + p.stdout)
                added.append(name)
        figures[t] = dict(first, seeds=len(seeds), campaign_inputs=len(cands), kept=len(added),
                          kept_edges=final, files=added)
        if not quiet:
            print("update-seeds: %-16s seeds %d (%d edges), campaign corpus %d (%d edges): %d new text seed(s) "
                  "in corpus/%s/, seeds now %d edges" % (t, len(seeds), base_pcs, len(cands), all_pcs, len(added), t,
                                                          final))
    write_json(os.path.join(outdir, "update-seeds.json"), figures)
    return figures


LIVE = []  # every engine process started, stopped by main() when the campaign fails
OUT = {"dir": "the campaign dir"}


def main(argv=None):
    """A write that fails (full disk, quota, read-only dir) stops the engines and ends the campaign
    with one line and exit 2; every file written so far is whole (write_text) and stays."""
    try:
        return campaign_main(argv)
    except OSError as e:
        for p in LIVE:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        print("vqfuzz: campaign: %s: %s (stopped; what was written so far is kept)" % (
            e.filename or OUT["dir"], e.strerror or e), file=sys.stderr)
        return 2


def campaign_main(argv=None):
    ap = argparse.ArgumentParser(prog="vqfuzz campaign", description="fuzz every target in parallel")
    ap.add_argument("--seconds", type=int, default=None, help="overall time budget (default 300)")
    ap.add_argument("--per-target-seconds", type=int, default=None)
    ap.add_argument("--targets", default=None, help="A,B,... (default: all)")
    ap.add_argument("--engine", choices=("libfuzzer", "afl"), default="libfuzzer")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=None, help="campaign dir (default reports/campaign, reports/campaign-bugN)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--update-seeds", action="store_true",
                    help="merge the campaign corpus into corpus/<target>/ (text, edge-led, at most --seeds-cap each)")
    ap.add_argument("--seeds-cap", type=int, default=20, help="new seeds per target at most (default 20)")
    ap.add_argument("--no-coverage", action="store_true", help="skip the source-coverage replay at the end")
    ap.add_argument("--no-fuzz", action="store_true",
                    help="no engine: only the steps after it (coverage, triage, minimize, report, --update-seeds) "
                         "on the campaign already in --out")
    ap.add_argument("--bug", type=int, default=None, metavar="N",
                    help="fuzz the planted bug N of bench/bugs/bugs.tsv (its variant's target) instead")
    a = ap.parse_args(argv)
    bug = clean = None
    if a.bug is not None:
        try:
            bug = planted.load(a.bug)
        except (OSError, planted.BugError) as e:
            print("vqfuzz: campaign: %s" % e, file=sys.stderr)
            return 2
        if a.targets or a.update_seeds:
            print("vqfuzz: campaign: --bug chooses the target; no --targets / --update-seeds", file=sys.stderr)
            return 2
        a.out = a.out or os.path.join(ROOT, "reports", "campaign-bug%d" % bug["id"])
        os.makedirs(a.out, exist_ok=True)
        bdir = planted.build_dir()
        if not a.quiet:
            print("vqfuzz: campaign: building the bug %d variant in %s..." % (bug["id"], os.path.relpath(bdir, ROOT)),
                  flush=True)
        try:
            variant, clean = planted.build(bdir, bug, os.path.join(a.out, "build.log"))
        except planted.BugError as e:
            print("vqfuzz: campaign: %s" % e, file=sys.stderr)
            return 2
        os.environ["VQF_FUZZ_BUILD"] = bdir
        os.environ.pop("VQF_CLI", None)
        if bug["strict"]:
            os.environ["VQF_STRICT"] = "1"  # as bench/bugs/run: a SHOULD-only bug fails only in strict mode
        a.targets = variant
    a.out = a.out or os.path.join(ROOT, "reports", "campaign")
    old_meta = read_json(os.path.join(a.out, "campaign.json")) if a.no_fuzz else None
    if a.no_fuzz and not old_meta:
        print("vqfuzz: campaign: --no-fuzz: no campaign.json in %s" % a.out, file=sys.stderr)
        return 2
    if old_meta and old_meta.get("bug") and a.bug is None:
        # the variant's tree, as the campaign that fuzzed it
        os.environ["VQF_FUZZ_BUILD"] = planted.build_dir()
        clean = old_meta["bug"].get("clean_target")
    targets = a.targets.split(",") if a.targets else (old_meta["targets"] if old_meta else list_targets())
    for t in targets:
        if not os.access(target_bin(t), os.X_OK):
            print("vqfuzz: campaign: unknown target '%s' (see: ./vqfuzz list)" % t, file=sys.stderr)
            return 2
    jobs = max(1, a.jobs)
    if a.per_target_seconds:
        per = a.per_target_seconds
    else:
        total = a.seconds or 300
        waves = (len(targets) + jobs - 1) // jobs
        per = max(1, total // waves)
    out = OUT["dir"] = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    lockf = open(os.path.join(out, "campaign.lock"), "a+")
    try:
        fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the kernel if we die
    except OSError:
        print("vqfuzz: campaign: another campaign is running in %s" % out, file=sys.stderr)
        return 2
    lockf.truncate(0)
    lockf.write(str(os.getpid()) + "\n")
    lockf.flush()

    if a.no_fuzz:
        return after_fuzzing(out, targets, a, clean)

    t0 = time.time()
    meta = {"targets": targets, "engine": a.engine, "jobs": jobs, "per_target_seconds": per, "start_time": t0,
            "start_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "interrupted": False}
    if bug:
        meta["bug"] = bug
    write_json(os.path.join(out, "campaign.json"), meta)
    shutil.rmtree(os.path.join(out, "coverage"), ignore_errors=True)  # a previous run's figures
    runs = [Run(t, out, per) for t in targets]
    stop = {"flag": False}

    def on_sigint(_sig, _frm):
        stop["flag"] = True

    old = signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigint)
    tty = sys.stdout.isatty() and not a.quiet
    pending, active = list(runs), []
    last_draw = 0.0
    while pending or active:
        if stop["flag"]:
            pending = []
            now = time.time()
            stop.setdefault("at", now)
            # SIGINT once (libFuzzer prints its final stats and exits); a child still busy after the
            # grace period (fork mode merging a job) is killed with its whole process group.
            sig = signal.SIGINT if not stop.get("sent") else signal.SIGKILL if now - stop["at"] > 10 else None
            for r in active:
                if sig is not None and r.proc.poll() is None:
                    try:
                        os.killpg(r.proc.pid, sig)
                    except ProcessLookupError:
                        pass
            stop["sent"] = True
        while pending and len(active) < jobs:
            r = pending.pop(0)
            r.thread = start(r, out, a.engine)
            active.append(r)
        for r in list(active):
            if r.error is not None:
                raise r.error
            if r.done:
                r.thread.join()
                active.remove(r)
                write_stats(r)
                if not a.quiet and not tty:
                    print("%-16s execs=%d exec/s=%d cov=%d findings=%d" % (r.target, r.execs, r.eps, r.cov,
                                                                            r.findings()))
        if time.time() - last_draw >= 1.0:
            draw(runs, t0, tty)
            for r in active:
                write_stats(r)  # the time series is on disk even if the campaign is killed
            last_draw = time.time()
        time.sleep(0.2)
    signal.signal(signal.SIGINT, old)
    meta["interrupted"] = stop["flag"]
    meta["end_time"] = time.time()
    write_json(os.path.join(out, "campaign.json"), meta)
    if a.engine == "afl":
        for r in runs:
            src = os.path.join(ROOT, "reports", "findings", r.target)
            for n in os.listdir(src) if os.path.isdir(src) else []:
                if n.startswith("crash-afl-"):
                    shutil.copy(os.path.join(src, n), os.path.join(r.dir, "findings", n))
    if not stop["flag"]:
        for r in runs:
            if a.engine == "libfuzzer":
                merge_corpus(r, out)
    return after_fuzzing(out, targets, a, clean, interrupted=stop["flag"])


def after_fuzzing(out, targets, a, clean, interrupted=False):
    """Coverage (not after Ctrl-C), triage, minimize, report, then the seeds update."""
    if not interrupted and not a.no_coverage and a.engine == "libfuzzer":
        measure_coverage(out, targets, a.quiet)
    bugs = triage.run_triage(out, quiet=a.quiet)
    minimize_bugs(out, bugs, a.quiet, clean)
    if clean:
        bugs = merge_planted(out, bugs)
        if not a.quiet:
            sys.stdout.write("planted bug: " + triage.as_text(bugs))
    report.write_report(out)
    if a.update_seeds and not interrupted:
        update_seeds(out, targets, a.quiet, max(0, a.seeds_cap))
    if not a.quiet:
        print("report: %s" % os.path.join(out, "index.html"))
    return 1 if bugs else 0
