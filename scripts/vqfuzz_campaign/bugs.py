"""`vqfuzz campaign --bug N`: the campaign over one planted bug of bench/bugs/bugs.tsv.

The variant (a copy of an example built with -DVQF_BUG=N, see bench/bugs/README.md) is built
with libFuzzer and ASan/UBSan in its own tree (VQF_BUGS_BUILD, default build/bug-campaign),
with the clean example of the same kind beside it, to tell the planted bug from the example's
own findings. The campaign then runs over the variant's one target like over a built-in one:
fuzz, merge, triage, minimize (the variant's own binary minimizes: VQF_MINIMIZE,
harness/fuzz_target.c), report. The table, the target names and the strict mode of
SHOULD-only bugs are bench/bugs/run's own (loaded from it), so both always agree."""
import importlib.machinery
import importlib.util
import os
import subprocess

from .common import ROOT

RUN = os.path.join(ROOT, "bench", "bugs", "run")


class BugError(Exception):
    pass


def _runner():
    loader = importlib.machinery.SourceFileLoader("vqf_bench_bugs_run", RUN)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def load(bug_id):
    run = _runner()
    for b in run.load_bugs():
        if b["id"] == bug_id:
            b = dict(b)
            b["target"], b["clean_target"] = run.target_of(b), run.clean_of(b)
            b["strict"] = run.strict_env(b, run.should_clauses()) is not None
            return b
    raise BugError("no bug %s in bench/bugs/bugs.tsv" % bug_id)


def build_dir():
    return os.environ.get("VQF_BUGS_BUILD", os.path.join(ROOT, "build", "bug-campaign"))


def build(bdir, bug, log):
    """Configure bdir with this one variant (the compiler and flags of bench/bugs/run) and
    build its target, its seeds and the clean example of the same kind."""
    cfg = ["cmake", "-S", ROOT, "-B", bdir, "-G", "Ninja", "-DCMAKE_C_COMPILER=clang",
           "-DCMAKE_CXX_COMPILER=clang++", "-DLIB_FUZZING_ENGINE=-fsanitize=fuzzer", "-DCMAKE_BUILD_TYPE=Debug",
           "-DCMAKE_C_FLAGS=-O1 -g", "-DVQF_SANITIZE=address,undefined", "-DVQF_BUILD_TESTS=OFF",
           "-DVQF_BUILD_BENCH=OFF", "-DVQF_BUG_VARIANTS=%d" % bug["id"]]
    v, c = bug["target"], bug["clean_target"]
    with open(log, "w") as lf:
        if subprocess.run(cfg, stdout=lf, stderr=subprocess.STDOUT).returncode:
            raise BugError("configure of %s failed (log: %s)" % (bdir, log))
        what = ["vqf_fuzz_" + v, v + "_seeds", "vqf_fuzz_" + c]
        if subprocess.run(["cmake", "--build", bdir, "-j", str(os.cpu_count() or 1), "--target"] + what,
                          stdout=lf, stderr=subprocess.STDOUT).returncode:
            raise BugError("build of %s failed (log: %s)" % (bdir, log))
    return v, c
