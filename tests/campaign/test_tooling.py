#!/usr/bin/env python3
"""Triage and report on a synthetic campaign dir (no engine, no build needed).

Findings carry sidecar FILE.log reports in the formats the tools parse: the executor's report
(vqf_exec_report: "vqfuzz: target T: FAIL" + "clause ID (spec SECTION") and sanitizer reports
("ERROR: AddressSanitizer: TYPE" + "#N 0x.. in FUNC"). Deterministic: fixed contents, fixed mtimes."""
import json
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from vqfuzz_campaign import campaign, coverage, report, triage  # noqa: E402

failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
        print("CHECK failed: " + what)


def oracle_log(target, verdict, clause, section):
    s = "vqfuzz: target %s: %s\n" % (target, verdict)
    if clause:
        s += "  clause   %s (spec %s, device, MUST)\n  meaning  x\n" % (clause, section)
    return s


def oracle_log_findings(target, clauses, section):
    """A FAIL whose run broke several rules: the first is the verdict's clause."""
    s = oracle_log(target, "FAIL", clauses[0], section)
    for i, c in enumerate(clauses):
        s += "  finding  %s by device at event #%d: x\n" % (c, 10 + i)
    return s


def asan_log(kind, frames):
    s = "==1==ERROR: AddressSanitizer: %s on address 0x602000000010\n" % kind
    s += "    #0 0x4a1b2c in __asan_memcpy asan.cpp:1\n"
    for i, f in enumerate(frames):
        s += "    #%d 0x4a1b%02x in %s /src/x.c:%d:3\n" % (i + 1, i, f, i + 10)
    s += "    #9 0x4a1c00 in LLVMFuzzerTestOneInput fuzz.c:1\n"
    return s


def make_campaign(d):
    t0 = 1700000000.0
    json.dump({"targets": ["rng_driver", "blk_device", "mmio"], "engine": "libfuzzer", "start_time": t0,
               "start_iso": "2023-11-14T22:13:20Z", "per_target_seconds": 20}, open(os.path.join(d, "campaign.json"), "w"))
    files = {
        # 2.7.5.2 descriptor rules: the same clause twice is one bug, seen first at +5 s
        ("rng_driver", "crash-aa01"): (oracle_log("rng_driver", "FAIL", "SPLIT-DSC-04", "2.7.5.2"), t0 + 9),
        ("rng_driver", "crash-aa02"): (oracle_log("rng_driver", "FAIL", "SPLIT-DSC-04", "2.7.5.2"), t0 + 5),
        ("rng_driver", "crash-aa03"): (oracle_log("rng_driver", "FAIL", "SPLIT-USED-02", "2.7.8"), t0 + 7),
        ("rng_driver", "timeout-aa04"): (oracle_log("rng_driver", "WEDGED", "", ""), t0 + 8),
        # same sanitizer type and top frames (the runtime's own frame is skipped): one bug
        ("blk_device", "crash-bb01"): (asan_log("heap-buffer-overflow", ["blk_read", "blk_process", "vdev_poll"]), t0 + 3),
        ("blk_device", "crash-bb02"): (asan_log("heap-buffer-overflow", ["blk_read", "blk_process", "vdev_poll"]), t0 + 4),
        # same type, different frames: another bug
        ("blk_device", "crash-bb03"): (asan_log("heap-buffer-overflow", ["blk_write", "blk_process", "vdev_poll"]), t0 + 6),
        # one defect, two rules: runs that break D-03 first also break D-18 and the other way
        # round: one bug (D-03, more findings), D-18 under "also"
        ("mmio", "crash-cc01"): (oracle_log_findings("mmio", ["D-03", "D-18"], "2.7.8"), t0 + 2),
        ("mmio", "crash-cc02"): (oracle_log_findings("mmio", ["D-03"], "2.7.8"), t0 + 3),
        ("mmio", "crash-cc03"): (oracle_log_findings("mmio", ["D-18", "D-03"], "5.4"), t0 + 1),
        # the D-05 run breaks D-18 too, but no D-03 / D-18 run breaks D-05: another bug
        ("mmio", "crash-cc04"): (oracle_log_findings("mmio", ["D-05", "D-18"], "2.7.5"), t0 + 4),
    }
    for (t, n), (log, mt) in files.items():
        fd = os.path.join(d, t, "findings")
        os.makedirs(fd, exist_ok=True)
        p = os.path.join(fd, n)
        open(p, "wb").write(b"\x00" * 48)
        open(p + ".log", "w").write(log)
        os.utime(p, (mt, mt))
    for t in ("rng_driver", "blk_device", "mmio"):
        os.makedirs(os.path.join(d, t), exist_ok=True)
        with open(os.path.join(d, t, "stats.csv"), "w") as f:
            f.write("seconds,execs,exec_per_s,cov,ft,corpus\n")
            for i in range(1, 6):
                f.write("%d,%d,%d,%d,%d,%d\n" % (i, i * 1000, 1000, 100 + i * 10, 200 + i, i))
        json.dump({"target": t, "execs": 5000, "exec_per_s": 1000, "cov": 150, "corpus": 5},
                  open(os.path.join(d, t, "result.json"), "w"))


def cov_entry(path, lines, lines_cov, br, br_cov):
    def part(n, c):
        return {"count": n, "covered": c, "notcovered": n - c, "percent": 100.0 * c / n if n else 0.0}
    return {"filename": os.path.join(coverage.ROOT, path),
            "summary": {"lines": part(lines, lines_cov), "branches": part(br, br_cov)}}


def make_coverage(d):
    """A coverage summary as coverage.measure() writes it, from a synthetic llvm-cov export."""
    export = {"data": [{"files": [
        cov_entry("emulator/ring/split.c", 200, 190, 100, 85),
        cov_entry("emulator/ring/packed.c", 300, 276, 100, 81),
        cov_entry("emulator/ring/split.h", 50, 10, 20, 4),
        cov_entry("emulator/ring/packed.h", 40, 8, 20, 4),
        cov_entry("emulator/ring/ring_hot.h", 10, 6, 0, 0),
        cov_entry("emulator/mem.c", 400, 300, 100, 50),
    ]}]}
    files, groups = coverage.summarize(export)
    os.makedirs(os.path.join(d, "coverage"))
    json.dump({"targets": {"rng_driver": {"inputs": 7}}, "files": files, "groups": groups},
              open(os.path.join(d, "coverage", "summary.json"), "w"))
    return groups


def main():
    with tempfile.TemporaryDirectory() as d:
        make_campaign(d)
        groups = make_coverage(d)
        # ring: split.c + packed.c + split.h + packed.h + ring_hot.h; ring_c: the two .c files
        check(groups["ring"]["lines"]["covered"] == 490 and groups["ring"]["lines"]["count"] == 600,
              "ring lines summed over the five files: %s" % groups["ring"]["lines"])
        check(groups["ring"]["branches"]["percent"] == round(100.0 * 174 / 240, 2), "ring branches percent")
        check(groups["ring_c"]["lines"]["percent"] == 93.2, "ring_c lines 466/500: %s" % groups["ring_c"]["lines"])
        check(groups["emulator"]["lines"]["count"] == 1000, "emulator group holds every emulator/ file")
        bugs = triage.run_triage(d, quiet=True)
        keys = {(b["target"], b["key"]): b for b in bugs}
        check(len(bugs) == 7, "7 distinct bugs, got %d: %s" % (len(bugs), sorted(keys)))
        m = keys.get(("mmio", "FAIL D-03"))
        check(m is not None and m["count"] == 3 and [a["key"] for a in m.get("also", [])] == ["FAIL D-18"]
              and m["first_seen_s"] == 1.0, "co-occurring clauses merged into one bug: %s" % m)
        check(("mmio", "FAIL D-05") in keys and keys[("mmio", "FAIL D-05")]["count"] == 1,
              "a clause the other runs never break stays its own bug")
        check(len(triage.triage(d, merge=False)) == 8, "--no-merge: one entry per first clause")
        b = keys.get(("rng_driver", "FAIL SPLIT-DSC-04"))
        check(b is not None and b["count"] == 2, "SPLIT-DSC-04 deduplicated to one entry of 2")
        check(b is not None and b["first_seen_s"] == 5.0 and b["first_file"].endswith("crash-aa02"),
              "first seen is the earliest file")
        check(b is not None and b["section"] == "2.7.5.2", "section kept")
        check(("rng_driver", "WEDGED") in keys, "WEDGED keyed by verdict alone")
        ab = [b for b in bugs if b["kind"] == "sanitizer"]
        check(len(ab) == 2, "two sanitizer bugs (frames differ)")
        check(any(b["count"] == 2 and "blk_read < blk_process < vdev_poll" in b["key"] for b in ab),
              "top 3 frames of the project's code, runtime frames skipped")
        t = json.load(open(os.path.join(d, "triage.json")))
        check(len(t) == 7, "triage.json written")
        check("SPLIT-DSC-04" in open(os.path.join(d, "triage.txt")).read(), "triage.txt names the clause")

        s = report.write_report(d)
        for n in ("index.html", "summary.md", "summary.json", "junit.xml"):
            check(os.path.getsize(os.path.join(d, n)) > 0, n + " written")
        sj = json.load(open(os.path.join(d, "summary.json")))
        check(sj["distinct_bugs"] == 7 and sj["total_findings"] == 11, "summary.json counts")
        check(sorted(x["target"] for x in sj["targets"]) == ["blk_device", "mmio", "rng_driver"], "targets")
        root = ET.parse(os.path.join(d, "junit.xml")).getroot()
        cases = root.findall(".//testcase")
        check(len(cases) == 3, "one testcase per target")
        fails = {c.get("name"): len(c.findall("failure")) for c in cases}
        check(fails == {"rng_driver": 3, "blk_device": 2, "mmio": 2}, "one failure per bug: %s" % fails)
        page = open(os.path.join(d, "index.html")).read()
        check("SPLIT-DSC-04" in page and "mmio" in page, "index.html names targets and clause")
        check("http://" not in page and "https://" not in page, "index.html self-contained")
        if os.path.isdir(os.path.join(d, "plots")):
            check(page.count("data:image/png;base64,") == 3, "three plots inlined")
        check("SPLIT-DSC-04" in open(os.path.join(d, "summary.md")).read(), "summary.md names the clause")
        # The ring figure and the bar (90% lines, 80% branches): 81.7% / 72.5% here, not met.
        check("id='ring-coverage'" in page and "lines 81.7%" in page and "branches 72.5%" in page
              and "not met" in page, "index.html states the ring coverage and the bar")
        md = open(os.path.join(d, "summary.md")).read()
        check("lines 81.7%, branches 72.5%" in md and "| emulator/ring/split.c | 95.0% | 190/200 |" in md,
              "summary.md: ring figure and per-file rows")
        check(sj["coverage"]["ring_bar"]["lines"]["percent"] == 81.67 and
              sj["coverage"]["ring_bar"]["lines"]["met"] is False and
              sj["coverage"]["groups"]["ring_c"]["branches"]["percent"] == 83.0,
              "summary.json: ring bar and groups")
        # --bug: every finding the clean example passes is the planted defect's (one entry, the
        # clause finding first); one the clean example shares stays apart.
        def entry(key, verdict, clause, count, clean):
            return {"id": key, "target": "t", "kind": "oracle", "key": key, "verdict": verdict, "clause": clause,
                    "count": count, "first_seen": 10.0 + count, "first_seen_s": float(count), "files": [key] * count,
                    "first_file": key, "clean_replay": clean, "summary": key}
        os.makedirs(os.path.join(d, "planted"))
        pb = campaign.merge_planted(os.path.join(d, "planted"), [entry("WEDGED", "WEDGED", "", 5, "PASS"),
                                        entry("FAIL SPLIT-AVL-01", "FAIL", "SPLIT-AVL-01", 2, "PASS"),
                                        entry("FAIL D-05", "FAIL", "D-05", 1, "FAIL D-05")])
        check(len(pb) == 2 and pb[0]["key"] == "FAIL SPLIT-AVL-01" and pb[0]["count"] == 7
              and [x["key"] for x in pb[0]["also"]] == ["WEDGED"] and pb[0]["first_seen_s"] == 2.0,
              "merge_planted: the clean-passing findings are one bug headed by the clause: %s" % pb)
        check(any(b["key"] == "FAIL D-05" and "also" not in b for b in pb), "a finding the clean build shares stays")
        if len(sys.argv) > 1:  # keep a copy for the browser test
            import shutil
            shutil.copytree(d, sys.argv[1], dirs_exist_ok=True)
        _ = s
    print("test_tooling: %s" % ("ok" if not failed else "%d failed" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
