#!/usr/bin/env python3
"""A planted bug through the campaign's own triage, minimize and report steps.

Usage: test_planted_bug.py BINARY INPUTS_DIR CLAUSE [ALSO_CLAUSE]

BINARY is a replay build of a planted-bug variant (tests/campaign/CMakeLists.txt), INPUTS_DIR
holds finding inputs a campaign saved for that bug (different programs, one bug). The test
lays them out as a campaign dir, then: triage gives exactly one entry (verdict FAIL, the bug's
clause) counting every input, even those whose run broke ALSO_CLAUSE first; minimize (the binary's own VQF_MINIMIZE mode, as the campaign
runs it for adapter targets) gives a program of at most 10 ops that replays to the same
clause; the report says one distinct bug."""
import json
import os
import re
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))

failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
        print("CHECK failed: " + what)


# Lines of the text form that are not ops: comments and the three header lines (program_text.c).
HEADER = re.compile(r"^(#|format |queues |offered |\s*$)")


def count_ops(text_path):
    with open(text_path) as f:
        return sum(1 for line in f if not HEADER.match(line))


def main():
    binary, inputs, clause = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
    also = sys.argv[4] if len(sys.argv) > 4 else None
    name = os.path.basename(binary)
    with tempfile.TemporaryDirectory(prefix="vqf-planted-") as tmp:
        # The campaign looks up adapter targets as <fuzz build>/examples/<name>.
        fb = os.path.join(tmp, "build")
        os.makedirs(os.path.join(fb, "examples"))
        os.symlink(binary, os.path.join(fb, "examples", name))
        os.environ["VQF_FUZZ_BUILD"] = fb
        from vqfuzz_campaign import campaign, report, triage  # after VQF_FUZZ_BUILD: read at call time

        d = os.path.join(tmp, "camp")
        fd = os.path.join(d, name, "findings")
        os.makedirs(fd)
        with open(os.path.join(d, "campaign.json"), "w") as f:
            json.dump({"targets": [name], "engine": "libfuzzer", "start_time": 0}, f)
        files = sorted(n for n in os.listdir(inputs) if n.endswith(".bin"))
        check(len(files) >= 2, "at least two committed inputs of the bug (got %d)" % len(files))
        for n in files:
            shutil.copy(os.path.join(inputs, n), os.path.join(fd, "crash-" + n[:-4]))

        bugs = triage.run_triage(d, quiet=True)
        check(len(bugs) == 1, "one distinct bug, got %d: %s" % (len(bugs), [b["key"] for b in bugs]))
        b = bugs[0] if bugs else {}
        check(b.get("key") == "FAIL " + clause, "keyed FAIL %s, got %s" % (clause, b.get("key")))
        check(b.get("count") == len(files), "every input counted (%s of %d)" % (b.get("count"), len(files)))
        if also:
            check([a["key"] for a in b.get("also", [])] == ["FAIL " + also],
                  "the runs that broke %s first are the same bug: %s" % (also, b.get("also")))
            split = triage.triage(d, merge=False)
            check(sorted(x["key"] for x in split) == sorted(["FAIL " + clause, "FAIL " + also]),
                  "without the merge, one entry per first clause")

        campaign.minimize_bugs(d, bugs, quiet=True)
        b = bugs[0] if bugs else {}
        mtxt = os.path.join(d, b["minimized"]) if b.get("minimized") else None
        check(mtxt is not None and os.path.exists(mtxt), "minimized program written")
        if mtxt and os.path.exists(mtxt):
            n_ops = count_ops(mtxt)
            check(n_ops <= 10, "minimized to at most 10 ops, got %d" % n_ops)
            check(b.get("minimized_ops") == n_ops, "ops in the header comment (%s) match the program (%d)" % (
                b.get("minimized_ops"), n_ops))
            check(os.path.exists(mtxt[:-4] + ".bin"), "binary form written")
        check(b.get("minimized_replay") == "FAIL " + clause and b.get("minimized_same") is True,
              "the minimized input replays to FAIL %s, got %s" % (clause, b.get("minimized_replay")))

        s = report.write_report(d)
        check(s["distinct_bugs"] == 1 and s["bugs"][0].get("minimized_ops") is not None,
              "the report: one distinct bug with its minimized op count")
        page = open(os.path.join(d, "index.html")).read()
        check(clause in page and "(same)" in page, "index.html names the clause and the replay check")
        print("test_planted_bug: %s: %d inputs -> %d bug(s), minimized to %s ops (%s)" % (
            name, len(files), len(bugs), b.get("minimized_ops"), b.get("minimized_replay")))
    print("test_planted_bug: %s" % ("ok" if not failed else "%d failed" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
