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

from . import report, triage
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


def minimize_bugs(outdir, bugs, quiet):
    for b in bugs:
        if b["kind"] != "oracle":
            continue  # the program minimizer keeps verdict + clause; crashes keep libFuzzer's input
        dst = os.path.join(outdir, "minimized", b["target"])
        os.makedirs(dst, exist_ok=True)
        p = subprocess.run([cli_path(), "minimize", b["target"], os.path.join(outdir, b["first_file"]), "-o",
                            os.path.join(dst, b["id"])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        b["minimized"] = os.path.relpath(os.path.join(dst, b["id"] + ".txt"), outdir) if p.returncode == 0 else None
        if not quiet:
            sys.stdout.write(p.stdout.decode(errors="replace"))
    write_json(os.path.join(outdir, "triage.json"), bugs)


def update_seeds(outdir, targets, quiet):
    """Merge DIR/corpus/<t> into corpus/<t>/ as text programs, keeping only coverage the seeds lack."""
    for t in targets:
        camp = os.path.join(outdir, "corpus", t)
        seeds = os.path.join(fuzz_build(), "corpus", t)
        if not os.path.isdir(camp) or not os.listdir(camp):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            have = set()
            if os.path.isdir(seeds):
                for n in os.listdir(seeds):
                    shutil.copy(os.path.join(seeds, n), os.path.join(tmp, n))
                    have.add(n)
            subprocess.run([target_bin(t), "-merge=1", "-timeout=10", tmp, camp], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            added = 0
            for n in sorted(set(os.listdir(tmp)) - have):
                p = subprocess.run([cli_path(), "decode", os.path.join(tmp, n)], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
                if p.returncode != 0:
                    continue
                name = "campaign_%s.txt" % hashlib.sha1(p.stdout).hexdigest()[:12]
                path = os.path.join(ROOT, "corpus", t, name)
                if not os.path.exists(path):
                    with open(path, "wb") as f:
                        f.write(b"# from a campaign: new coverage over the seeds (libFuzzer -merge=1)\n" + p.stdout)
                    added += 1
            if not quiet:
                print("update-seeds: %s: %d new text seed(s) in corpus/%s/" % (t, added, t))


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
    ap.add_argument("--out", default=os.path.join(ROOT, "reports", "campaign"))
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--update-seeds", action="store_true")
    a = ap.parse_args(argv)
    targets = a.targets.split(",") if a.targets else list_targets()
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

    t0 = time.time()
    meta = {"targets": targets, "engine": a.engine, "jobs": jobs, "per_target_seconds": per, "start_time": t0,
            "start_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "interrupted": False}
    write_json(os.path.join(out, "campaign.json"), meta)
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
    bugs = triage.run_triage(out, quiet=a.quiet)
    minimize_bugs(out, bugs, a.quiet)
    report.write_report(out)
    if a.update_seeds and not stop["flag"]:
        update_seeds(out, targets, a.quiet)
    if not a.quiet:
        print("report: %s" % os.path.join(out, "index.html"))
    return 1 if bugs else 0
