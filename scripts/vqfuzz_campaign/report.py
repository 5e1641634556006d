"""vqfuzz report DIR: index.html (self-contained), summary.md, summary.json, junit.xml, plots/."""
import argparse
import base64
import csv
import html
import os
import re
import sys
import time
from xml.sax.saxutils import quoteattr, escape

from .common import campaign_targets, read_json, write_json, write_text


def load(d):
    meta = read_json(os.path.join(d, "campaign.json"), {}) or {}
    bugs = read_json(os.path.join(d, "triage.json"))
    if bugs is None:
        from . import triage
        bugs = triage.run_triage(d, quiet=True)
    targets = []
    for t in campaign_targets(d):
        res = read_json(os.path.join(d, t, "result.json"), {}) or {}
        series = []
        try:
            with open(os.path.join(d, t, "stats.csv")) as f:
                for row in csv.DictReader(f):
                    series.append({k: float(v) for k, v in row.items()})
        except (OSError, ValueError):
            pass
        tb = [b for b in bugs if b["target"] == t]
        targets.append({"target": t, "execs": res.get("execs", 0), "exec_per_s": res.get("exec_per_s", 0),
                        "cov": res.get("cov", 0), "corpus": res.get("corpus", 0),
                        "findings": sum(b["count"] for b in tb), "bugs": len(tb), "series": series})
    return meta, targets, bugs


# The campaign bar on the ring code (issue 7): lines and branches of the "ring" group.
RING_BAR = {"lines": 90.0, "branches": 80.0}


def load_coverage(d):
    """DIR/coverage/summary.json (coverage.py) reduced to what the report shows: the groups
    (ring, ring_c, emulator) and the files of emulator/ring/. None when not measured."""
    s = read_json(os.path.join(d, "coverage", "summary.json"))
    if not s or "groups" not in s:
        return None
    files = {p: {k: v for k, v in f.items() if k in ("lines", "branches")}
             for p, f in s.get("files", {}).items() if p.startswith("emulator/ring/")}
    inputs = sum(t.get("inputs", 0) for t in s.get("targets", {}).values())
    ring = s["groups"].get("ring", {})
    bar = {k: {"min": v, "percent": ring.get(k, {}).get("percent"),
               "met": (ring.get(k, {}).get("percent") or 0) >= v} for k, v in RING_BAR.items()}
    return {"groups": s["groups"], "ring_files": files, "inputs": inputs, "ring_bar": bar,
            "html": "coverage/html/index.html"}


def ordered_groups(cov):
    order = ["ring", "ring_c", "emulator"]
    return sorted(cov["groups"].items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else 99, kv[0]))


def pct(x):
    return "-" if x is None else "%.1f%%" % x


def cov_cells(f):
    """(lines %, covered/count, branches %, covered/count) of a file or group."""
    lines, br = f.get("lines") or {}, f.get("branches") or {}
    return (pct(lines.get("percent")), "%d/%d" % (lines.get("covered", 0), lines.get("count", 0)),
            pct(br.get("percent")), "%d/%d" % (br.get("covered", 0), br.get("count", 0)))


def plots(d, targets, bugs):
    """PNG plots (matplotlib, Agg backend: no display). Returns {name: path} of what was made."""
    try:
        try:
            import matplotlib
        except ImportError:
            # Debian's python3-matplotlib (scripts/deps) when python3 on PATH is another interpreter
            sys.path.append("/usr/lib/python3/dist-packages")
            import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("vqfuzz: report: python3-matplotlib missing, no plots (scripts/deps python3-matplotlib)",
              file=sys.stderr)
        return {}
    pd = os.path.join(d, "plots")
    os.makedirs(pd, exist_ok=True)
    made = {}
    for key, ylabel, name in (("cov", "coverage (edges)", "coverage.png"),
                              ("exec_per_s", "exec/s", "exec_per_s.png")):
        fig, ax = plt.subplots(figsize=(8, 4))
        for t in targets:
            if t["series"]:
                ax.plot([p["seconds"] for p in t["series"]], [p[key] for p in t["series"]], label=t["target"])
        ax.set_xlabel("seconds")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if any(t["series"] for t in targets):
            ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(os.path.join(pd, name), dpi=80)
        plt.close(fig)
        made[name] = os.path.join(pd, name)
    counts = {}
    for b in bugs:
        label = b["clause"] or b["verdict"] if b["kind"] == "oracle" else b["key"].split(" @ ")[0]
        counts[label] = counts.get(label, 0) + b["count"]
    fig, ax = plt.subplots(figsize=(8, 3 + 0.25 * len(counts)))
    if counts:
        labels = sorted(counts)
        ax.barh(labels, [counts[k] for k in labels])
    ax.set_xlabel("findings")
    ax.set_title("findings by clause / sanitizer")
    fig.tight_layout()
    fig.savefig(os.path.join(pd, "findings.png"), dpi=80)
    plt.close(fig)
    made["findings.png"] = os.path.join(pd, "findings.png")
    return made


def data_uri(path):
    with open(path, "rb") as f:
        return "data:image/png;base64," + base64.b64encode(f.read()).decode()


def ops_cell(b):
    if b.get("minimized_ops") is None:
        return ""
    return "%s -> %d" % (b.get("ops_before") if b.get("ops_before") is not None else "?", b["minimized_ops"])


def replay_cell(b):
    if not b.get("minimized_replay"):
        return ""
    return "%s (%s)" % (b["minimized_replay"], "same" if b.get("minimized_same") else "DIFFERENT")


CSS = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
       "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}"
       ".bad{color:#b00;font-weight:bold}.ok{color:#070}img{max-width:100%;display:block;margin:1em 0}")


def html_coverage(cov):
    e = html.escape
    if not cov:
        return ["<h2>Coverage</h2><p>not measured (vqfuzz campaign --no-coverage, an interrupted campaign, "
                "or no built-in target)</p>"]
    bar = cov["ring_bar"]
    h = ["<h2>Coverage</h2>",
         "<p id='ring-coverage'>Ring code (split + packed, with the headers' inline fast paths): "
         "<b>lines %s</b>, <b>branches %s</b> (bar: %.0f%% / %.0f%%: <span class='%s'>%s</span>)</p>" % (
             pct(bar["lines"]["percent"]), pct(bar["branches"]["percent"]), bar["lines"]["min"],
             bar["branches"]["min"], "ok" if bar["lines"]["met"] and bar["branches"]["met"] else "bad",
             "met" if bar["lines"]["met"] and bar["branches"]["met"] else "not met"),
         "<p>%d inputs replayed (seeds, regressions, the campaign corpus) under the clang coverage build; "
         "all targets merged.</p>" % cov["inputs"],
         "<table><tr><th>code</th><th>lines</th><th>covered</th><th>branches</th><th>covered</th></tr>"]
    for key, g in ordered_groups(cov):
        h.append("<tr><td>%s (%s)</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            (e(key), e(g.get("what", ""))) + cov_cells(g)))
    for p in sorted(cov["ring_files"]):
        h.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            (e(p),) + cov_cells(cov["ring_files"][p])))
    h.append("</table><p>line by line: %s (llvm-cov show)</p>" % e(cov["html"]))
    return h


def write_html(d, meta, targets, bugs, made, cov=None):
    e = html.escape
    h = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>vqfuzz campaign report</title>",
         "<style>%s</style></head><body>" % CSS, "<h1>vqfuzz campaign report</h1>",
         "<p>started %s, engine %s, %s s per target%s</p>" % (
             e(str(meta.get("start_iso", "?"))), e(str(meta.get("engine", "?"))),
             e(str(meta.get("per_target_seconds", "?"))), " (interrupted)" if meta.get("interrupted") else ""),
         bug_line(meta, html.escape),
         "<h2>Targets</h2><table><tr><th>target</th><th>execs</th><th>exec/s</th><th>cov</th><th>corpus</th>"
         "<th>findings</th><th>distinct bugs</th></tr>"]
    for t in targets:
        cls = "bad" if t["bugs"] else "ok"
        h.append("<tr><td>%s</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td class='%s'>%d</td></tr>"
                 % (e(t["target"]), t["execs"], t["exec_per_s"], t["cov"], t["corpus"], t["findings"], cls,
                    t["bugs"]))
    h.append("</table>")
    h += html_coverage(cov)
    h.append("<h2>Distinct bugs</h2>")
    if bugs:
        h.append("<table><tr><th>id</th><th>target</th><th>bug</th><th>section</th><th>count</th>"
                 "<th>first seen</th><th>input</th><th>minimized</th><th>ops</th><th>minimized replays to</th>"
                 "<th>clean example</th></tr>")
        for b in bugs:
            h.append("<tr><td>%s</td><td>%s</td><td class='bad'>%s</td><td>%s</td><td>%d</td><td>%s</td>"
                     "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                         e(b["id"]), e(b["target"]), e(b["summary"]), e(b.get("section") or ""), b["count"],
                         e(b.get("first_seen_iso", "")), e(b["first_file"]), e(b.get("minimized") or ""),
                         ops_cell(b), e(replay_cell(b)), e(b.get("clean_replay") or "")))
        h.append("</table>")
    else:
        h.append("<p class='ok'>no findings</p>")
    if made:
        h.append("<h2>Plots</h2>")
        for name, alt in (("coverage.png", "coverage over time"), ("exec_per_s.png", "exec/s over time"),
                          ("findings.png", "findings by clause")):
            if name in made:
                h.append("<h3>%s</h3><img alt='%s' src='%s'>" % (alt, alt, data_uri(made[name])))
    h.append("</body></html>\n")
    write_text(os.path.join(d, "index.html"), "\n".join(h))


def bug_line(meta, esc=lambda x: x):
    """The planted bug a --bug campaign fuzzed (empty otherwise)."""
    b = meta.get("bug")
    if not b:
        return ""
    return "<p>planted bug %d (bench/bugs/bugs.tsv, %s side, %s): %s; expected: %s</p>" % (
        b["id"], esc(b["side"]), esc(b["format"]), esc(b["description"]), esc(" or ".join(b["expected"])))


def md_coverage(cov):
    if not cov:
        return ["", "## Coverage", "", "not measured (--no-coverage, interrupted, or no built-in target)"]
    bar = cov["ring_bar"]
    ok = bar["lines"]["met"] and bar["branches"]["met"]
    md = ["", "## Coverage", "",
          "**Ring code (split + packed, with the headers' inline fast paths): lines %s, branches %s** "
          "(bar %.0f%% / %.0f%%: %s); %d inputs replayed, all targets merged." % (
              pct(bar["lines"]["percent"]), pct(bar["branches"]["percent"]), bar["lines"]["min"],
              bar["branches"]["min"], "met" if ok else "not met", cov["inputs"]), "",
          "| code | lines | covered | branches | covered |", "|---|---|---|---|---|"]
    for key, g in ordered_groups(cov):
        md.append("| %s (%s) | %s | %s | %s | %s |" % ((key, g.get("what", "")) + cov_cells(g)))
    for p in sorted(cov["ring_files"]):
        md.append("| %s | %s | %s | %s | %s |" % ((p,) + cov_cells(cov["ring_files"][p])))
    return md


def write_md(d, meta, targets, bugs, cov=None):
    md = ["# vqfuzz campaign", "", "engine %s, %s s per target, started %s%s" % (
        meta.get("engine", "?"), meta.get("per_target_seconds", "?"), meta.get("start_iso", "?"),
        " (interrupted)" if meta.get("interrupted") else ""), ""] + (
        [re.sub(r"</?p>", "", bug_line(meta)), ""] if meta.get("bug") else []) + [
        "| target | execs | exec/s | cov | findings | distinct bugs |", "|---|---|---|---|---|---|"]
    for t in targets:
        md.append("| %s | %d | %d | %d | %d | %d |" % (t["target"], t["execs"], t["exec_per_s"], t["cov"],
                                                       t["findings"], t["bugs"]))
    md += md_coverage(cov)
    md += ["", "## Distinct bugs", ""]
    if not bugs:
        md.append("none")
    for b in bugs:
        md.append("- `%s` %s: **%s**%s x%d, first `%s`" % (b["id"], b["target"], b["summary"],
                                                            " (%s)" % b["section"] if b.get("section") else "",
                                                            b["count"], b["first_file"]))
        if b.get("minimized"):
            md.append("  minimized: `%s`, ops %s, replays to %s" % (b["minimized"], ops_cell(b), replay_cell(b)))
        if b.get("clean_replay"):
            md.append("  the same input on the clean example: %s" % b["clean_replay"])
        for x in b.get("also", []):
            md.append("  also %s x%d, first `%s`%s" % (x["key"], x["count"], x["first_file"],
                                                       "; minimized `%s`, %s ops, replays to %s" % (
                                                           x["minimized"], x.get("minimized_ops"),
                                                           x.get("minimized_replay"))
                                                       if x.get("minimized") else ""))
    write_text(os.path.join(d, "summary.md"), "\n".join(md) + "\n")


def write_junit(d, targets, bugs):
    """One testcase per target; one <failure> per distinct bug of that target."""
    nfail = sum(1 for t in targets if t["bugs"])
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         '<testsuites><testsuite name="vqfuzz-campaign" tests="%d" failures="%d">' % (len(targets), nfail)]
    for t in targets:
        x.append('<testcase classname="vqfuzz.campaign" name=%s>' % quoteattr(t["target"]))
        for b in bugs:
            if b["target"] == t["target"]:
                x.append('<failure message=%s type=%s>%s</failure>' % (
                    quoteattr(b["summary"]), quoteattr(b["kind"]),
                    escape("%d finding(s); first %s; reproduce: ./vqfuzz run %s %s" % (
                        b["count"], b["first_file"], b["target"], b["first_file"]))))
        x.append("</testcase>")
    x.append("</testsuite></testsuites>")
    write_text(os.path.join(d, "junit.xml"), "\n".join(x) + "\n")


def write_report(d):
    meta, targets, bugs = load(d)
    cov = load_coverage(d)
    made = plots(d, targets, bugs)
    write_html(d, meta, targets, bugs, made, cov)
    write_md(d, meta, targets, bugs, cov)
    write_junit(d, targets, bugs)
    summary = {"campaign": meta, "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "targets": [{k: v for k, v in t.items() if k != "series"} for t in targets],
               "bugs": bugs, "total_findings": sum(b["count"] for b in bugs), "distinct_bugs": len(bugs),
               "coverage": cov}
    write_json(os.path.join(d, "summary.json"), summary)
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vqfuzz report", description="write the report of a campaign dir")
    ap.add_argument("dir")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.dir):
        print("vqfuzz: report: %s: not a directory" % a.dir, file=sys.stderr)
        return 2
    s = write_report(a.dir)
    print("%s: %d target(s), %d distinct bug(s); %s" % (a.dir, len(s["targets"]), s["distinct_bugs"],
                                                        os.path.join(a.dir, "index.html")))
    return 0
