#!/usr/bin/env python3
"""Reach test: prove that a fuzz target executes the functions it claims to fuzz.

Replays the target's seed corpus with the coverage build (clang source-based coverage), merges
the profile and checks, with llvm-cov, that every required function ran at least once.
Usage: reach.py --target NAME --binary PATH --corpus DIR [--corpus DIR...] --workdir DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

# What each target claims to fuzz: functions that must execute when its seeds replay.
# Names are matched exactly, or as the suffix after "file.c:" for static functions.
COMMON_DEVICE = ["vqf_vdev_mmio_write", "vqf_vdev_poll", "vqf_split_dev_pop", "vqf_packed_dev_pop",
                 "vqf_split_dev_push", "vqf_packed_dev_push"]
COMMON_DRIVER = ["vqf_vdrv_negotiate", "vqf_split_drv_add", "vqf_packed_drv_add",
                 "vqf_split_drv_get_used", "vqf_packed_drv_get_used"]
REQUIRED = {
    "blk_device": COMMON_DEVICE,
    "net_device": COMMON_DEVICE,
    "console_device": COMMON_DEVICE,
    "rng_device": COMMON_DEVICE,
    "blk_driver": COMMON_DRIVER,
    "net_driver": COMMON_DRIVER,
    "console_driver": COMMON_DRIVER,
    "rng_driver": COMMON_DRIVER,
    "blk_pair": COMMON_DEVICE + COMMON_DRIVER,
    "net_pair": COMMON_DEVICE + COMMON_DRIVER,
    "negotiation": ["vqf_vdrv_negotiate", "vqf_vdev_mmio_write", "vqf_vdrv_reset"],
    # device-side changes (with and without a torn read) come through the register path model
    "config": ["vqf_vdrv_config_read", "vqf_x_lie_config_change", "vqf_vdev_mmio_read"],
    "mmio": ["vqf_vdev_mmio_write", "vqf_vdev_mmio_read"],
    "formats": ["vqf_split_dev_pop", "vqf_packed_dev_pop", "vqf_split_drv_get_used", "vqf_packed_drv_get_used"],
}


def tool(name):
    for cand in (name, name + "-14"):
        if shutil.which(cand):
            return cand
    sys.exit(f"reach: {name} not found (install llvm)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--corpus", action="append", default=[])
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    need = REQUIRED.get(a.target)
    if need is None:
        sys.exit(f"reach: no required-function list for target {a.target}")
    corpora = [c for c in a.corpus if os.path.isdir(c) and os.listdir(c)]
    if not corpora:
        sys.exit(f"reach: {a.target}: no seeds to replay")
    os.makedirs(a.workdir, exist_ok=True)
    raw = os.path.join(a.workdir, f"{a.target}.profraw")
    if os.path.exists(raw):
        os.remove(raw)
    env = dict(os.environ, LLVM_PROFILE_FILE=raw)
    r = subprocess.run([a.binary] + corpora, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"reach: {a.target}: replay failed ({r.returncode}):\n{r.stderr[-2000:]}")
    prof = os.path.join(a.workdir, f"{a.target}.profdata")
    subprocess.run([tool("llvm-profdata"), "merge", "-sparse", raw, "-o", prof], check=True)
    out = subprocess.run([tool("llvm-cov"), "export", "-format=text", "-instr-profile=" + prof, a.binary],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    counts = {}
    for data in json.loads(out)["data"]:
        for fn in data.get("functions", []):
            name = fn["name"]
            short = name.split(":", 1)[1] if ":" in name else name
            counts[short] = max(counts.get(short, 0), fn["count"])
    missing = [f for f in need if counts.get(f, 0) == 0]
    for f in need:
        print(f"{a.target}: {f}: {counts.get(f, 0)} calls")
    if missing:
        sys.exit(f"reach: {a.target} never executes: {', '.join(missing)}")
    print(f"reach: {a.target}: all {len(need)} required functions executed")


if __name__ == "__main__":
    main()
