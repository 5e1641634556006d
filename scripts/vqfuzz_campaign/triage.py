"""vqfuzz triage DIR: one entry per distinct bug.

Oracle findings (FAIL / WEDGED reports of the executor) are keyed by verdict + clause ID;
sanitizer crashes by sanitizer type + the top 3 frames of the project's own code. The report of
each finding comes from its sidecar FILE.log, written by replaying the input once when absent."""
import argparse
import hashlib
import os
import re
import subprocess
import sys
import time

from .common import campaign_targets, finding_files, read_json, target_bin, write_json, write_text

RE_VERDICT = re.compile(r"^vqfuzz: target (\S+): (FAIL|WEDGED)", re.M)
RE_CLAUSE = re.compile(r"^\s+clause\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\s+\(spec ([0-9.]+)", re.M)
RE_SAN = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer|ThreadSanitizer|libFuzzer): "
                    r"([A-Za-z0-9_-]+(?: signal)?)")
RE_UBSAN = re.compile(r"runtime error: ([^\n]*)")
RE_FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+ in (\S+)(?: (\S+))?", re.M)
# Frames of the runtime, the engine and the abort path say nothing about where the bug is.
SKIP_FRAME = re.compile(r"^(__asan|__ubsan|__sanitizer|__lsan|__interceptor|fuzzer::|LLVMFuzzer|abort|raise|"
                        r"__GI_|__libc|_start|main$|vqf_fuzz_one|vqf_fuzz_target|vqf_exec_report)")


def replay_log(target, path):
    """The report for one input: FILE.log when present, else replay it with the target binary."""
    log = path + ".log"
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            return f.read()
    b = target_bin(target)
    if not os.access(b, os.X_OK):
        return ""
    try:
        p = subprocess.run([b, "-runs=1", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"))
        text = p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        text = "ERROR: libFuzzer: timeout (replay took over 60 s)\n"
    write_text(log, text)
    return text


def signature(text, name):
    """(kind, key, verdict, clause, section, summary) for one finding's report."""
    v = RE_VERDICT.search(text)
    if v:
        c = RE_CLAUSE.search(text)
        clause = c.group(1) if c else ""
        section = c.group(2) if c else ""
        key = v.group(2) + (" " + clause if clause else "")
        return "oracle", key, v.group(2), clause, section, key
    s = RE_SAN.search(text)
    if s:
        san = s.group(1) + ": " + s.group(2)
    else:
        u = RE_UBSAN.search(text)
        if u:
            san = "UndefinedBehaviorSanitizer: " + re.sub(r"0x[0-9a-f]+|\d+", "N", u.group(1))[:80]
        elif name.startswith("timeout-"):
            san = "libFuzzer: timeout"
        elif name.startswith("oom-"):
            san = "libFuzzer: out-of-memory"
        elif name.startswith("leak-"):
            san = "LeakSanitizer: detected memory leaks"
        else:
            san = "unknown crash"
    frames = []
    for m in RE_FRAME.finditer(text):
        fn = m.group(1)
        if SKIP_FRAME.match(fn):
            continue
        frames.append(fn)
        if len(frames) == 3:
            break
    key = san + (" @ " + " < ".join(frames) if frames else "")
    return "sanitizer", key, "CRASH", "", "", key


def triage(d):
    meta = read_json(os.path.join(d, "campaign.json"), {}) or {}
    start = meta.get("start_time")
    bugs = {}
    for t in campaign_targets(d):
        for path in finding_files(d, t):
            name = os.path.basename(path)
            text = replay_log(t, path)
            kind, key, verdict, clause, section, summary = signature(text, name)
            mtime = os.path.getmtime(path)
            k = (t, key)
            b = bugs.get(k)
            if b is None:
                bid = hashlib.sha1(("%s|%s" % k).encode()).hexdigest()[:10]
                b = bugs[k] = {"id": bid, "target": t, "kind": kind, "key": key, "verdict": verdict,
                               "clause": clause, "section": section, "summary": summary, "count": 0,
                               "first_seen": mtime, "first_file": path, "files": []}
            b["count"] += 1
            b["files"].append(os.path.relpath(path, d))
            if mtime < b["first_seen"]:
                b["first_seen"], b["first_file"] = mtime, path
    out = sorted(bugs.values(), key=lambda b: (b["first_seen"], b["target"], b["key"]))
    for b in out:
        b["first_seen_iso"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b["first_seen"]))
        b["first_seen_s"] = round(b["first_seen"] - start, 1) if start else None
        b["first_file"] = os.path.relpath(b["first_file"], d)
    return out


def as_text(bugs):
    if not bugs:
        return "no findings\n"
    lines = ["%d distinct bug(s), %d finding(s)" % (len(bugs), sum(b["count"] for b in bugs))]
    for b in bugs:
        when = ("+%ss" % b["first_seen_s"]) if b["first_seen_s"] is not None else b["first_seen_iso"]
        lines.append("  [%s] %-16s %-60s x%-4d first %s  %s" % (b["id"], b["target"], b["summary"], b["count"],
                                                                when, b["first_file"]))
    return "\n".join(lines) + "\n"


def run_triage(d, quiet=False):
    bugs = triage(d)
    old = {b["id"]: b for b in read_json(os.path.join(d, "triage.json"), []) or []}
    for b in bugs:  # a re-triage keeps the minimized programs of bugs already known
        if old.get(b["id"], {}).get("minimized"):
            b["minimized"] = old[b["id"]]["minimized"]
    write_json(os.path.join(d, "triage.json"), bugs)
    write_text(os.path.join(d, "triage.txt"), as_text(bugs))
    if not quiet:
        sys.stdout.write(as_text(bugs))
    return bugs


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vqfuzz triage", description="deduplicate the findings of a campaign")
    ap.add_argument("dir")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.dir):
        print("vqfuzz: triage: %s: not a directory" % a.dir, file=sys.stderr)
        return 2
    bugs = run_triage(a.dir, quiet=a.json)
    if a.json:
        import json
        print(json.dumps(bugs, indent=2, sort_keys=True))
    return 1 if bugs else 0
