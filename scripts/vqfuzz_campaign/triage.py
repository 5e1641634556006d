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

# Not anchored: the replay engine prints "PATH: " before the report on the same line.
RE_VERDICT = re.compile(r"vqfuzz: target (\S+): (FAIL|WEDGED)")
RE_CLAUSE = re.compile(r"^\s+clause\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\s+\(spec ([0-9.]+)", re.M)
# Every rule the run broke, in order (vqf_exec_report: "  finding  D-03 by device at event #12: ...").
RE_FINDING = re.compile(r"^\s+finding\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+) by ", re.M)
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


def merge_cooccurring(bugs):
    """One defect often breaks more than one rule, and which one the oracle sees first depends
    on the input (a device that reports the wrong used id breaks D-03, and D-18 when the id it
    names has a smaller buffer). Two FAIL entries of one target are one bug when each one's
    clause also fails in the runs of the other: their reports list both. The entry with more
    findings stays; the other is kept under its "also" list with its count and first input."""
    fails = [b for b in bugs if b["verdict"] == "FAIL" and b["clause"]]
    parent = {id(b): b for b in fails}

    def root(b):
        while parent[id(b)] is not b:
            b = parent[id(b)]
        return b

    for i, a in enumerate(fails):
        for c in fails[i + 1:]:
            if a["target"] == c["target"] and c["clause"] in a["_clauses"] and a["clause"] in c["_clauses"]:
                ra, rc = root(a), root(c)
                if ra is not rc:
                    parent[id(rc)] = ra
    groups = {}
    for b in fails:
        groups.setdefault(id(root(b)), []).append(b)
    out = [b for b in bugs if id(b) not in parent]
    for members in groups.values():
        members.sort(key=lambda b: (-b["count"], b["first_seen"]))
        head, rest = members[0], members[1:]
        for m in rest:
            head.setdefault("also", []).append({"key": m["key"], "clause": m["clause"], "count": m["count"],
                                                "first_file": m["first_file"]})
            head["count"] += m["count"]
            head["files"] += m["files"]
            if m["first_seen"] < head["first_seen"]:
                head["first_seen"] = m["first_seen"]  # the bug's first sighting; first_file stays the
                # representative's, whose clause the minimizer keeps
        if rest:
            head["summary"] = head["key"] + " (also " + ", ".join(m["clause"] for m in rest) + ")"
        out.append(head)
    return out


def triage(d, merge=True):
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
            b.setdefault("_clauses", set()).update(RE_FINDING.findall(text) + ([clause] if clause else []))
            if mtime < b["first_seen"]:
                b["first_seen"], b["first_file"] = mtime, path
    out = merge_cooccurring(list(bugs.values())) if merge else list(bugs.values())
    out.sort(key=lambda b: (b["first_seen"], b["target"], b["key"]))
    for b in out:
        b.pop("_clauses", None)
        b["first_seen_iso"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(b["first_seen"]))
        b["first_seen_s"] = round(b["first_seen"] - start, 1) if start else None
        b["first_file"] = os.path.relpath(b["first_file"], d)
        for a in b.get("also", []):
            a["first_file"] = os.path.relpath(a["first_file"], d)
    return out


def as_text(bugs):
    if not bugs:
        return "no findings\n"
    lines = ["%d distinct bug(s), %d finding(s)" % (len(bugs), sum(b["count"] for b in bugs))]
    for b in bugs:
        when = ("+%ss" % b["first_seen_s"]) if b["first_seen_s"] is not None and b["first_seen_s"] >= 0 \
            else b["first_seen_iso"]  # absent, or before this run (a campaign dir is reused)
        lines.append("  [%s] %-16s %-60s x%-4d first %s  %s" % (b["id"], b["target"], b["summary"], b["count"],
                                                                when, b["first_file"]))
    return "\n".join(lines) + "\n"


def run_triage(d, quiet=False, merge=True):
    bugs = triage(d, merge)
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
    ap.add_argument("--no-merge", action="store_true",
                    help="one entry per clause, even when one bug's runs break several together")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.dir):
        print("vqfuzz: triage: %s: not a directory" % a.dir, file=sys.stderr)
        return 2
    bugs = run_triage(a.dir, quiet=a.json, merge=not a.no_merge)
    if a.json:
        import json
        print(json.dumps(bugs, indent=2, sort_keys=True))
    return 1 if bugs else 0
