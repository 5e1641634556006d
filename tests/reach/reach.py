#!/usr/bin/env python3
"""Reach test: prove that a fuzz target executes the functions it claims to fuzz.

Replays the target's seed corpus with the coverage build (clang source-based coverage), merges
the profile and checks, with llvm-cov, that every required function ran at least once, and for
targets that claim a path inside functions that run either way, that the path's lines ran.
Usage: reach.py --target NAME --binary PATH --corpus DIR [--corpus DIR...] --workdir DIR
"""
import argparse
import json
import os
import re
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

# Lines that must execute, as (file suffix, text on the line): for code whose function runs
# either way, where only some of its lines prove the path. The formats target's unobserved
# passes must take the ring code's inline fast paths (a line of each fast body).
FAST_PATH_LINES = [
    ("emulator/ring/split.h", "ring_chain_one(c, head, pos, addr, len"),            # device pop
    ("emulator/ring/split.h", "ring_wr32(e + 4, written);"),                         # device push
    ("emulator/ring/split.h", "ring_st16_aligned(q->used + VIRTQ_USED_IDX, idx);"),  # device publish
    ("emulator/ring/split.h", "q->free_head = q->next_free[head];"),                 # driver add
    ("emulator/ring/split.h", "q->kicked_idx = new_idx;"),                           # driver kick
    ("emulator/ring/split.h", "q->free_head = (uint16_t)id;"),                       # driver get_used
    ("emulator/ring/packed.h", "ring_chain_one(c, id, slot, addr, len"),
    ("emulator/ring/packed.h", "q->pend[q->pending++] = slot"),
    ("emulator/ring/packed.h", "q->unsignalled += q->pend_slots;"),
    ("emulator/ring/packed.h", "q->free_id = q->ids[id].next;"),
    ("emulator/ring/packed.h", "q->published_avail = q->next_avail;"),
]
REQUIRED_LINES = {"formats": FAST_PATH_LINES}


def line_counts(cov, prof, binary, suffix):
    """{source text of a line: its largest count} for the one covered file ending in suffix."""
    files = subprocess.run([cov, "export", "-format=text", "-summary-only", "-instr-profile=" + prof, binary],
                           check=True, stdout=subprocess.PIPE, text=True).stdout
    names = [f["filename"] for d in json.loads(files)["data"] for f in d.get("files", [])
             if f["filename"].endswith(suffix)]
    if not names:
        return {}
    out = subprocess.run([cov, "show", "-instr-profile=" + prof, binary, names[0]],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    counts = {}
    for line in out.splitlines():
        m = re.match(r"^\s*\d+\|\s*([0-9.]+)([kMGTE]?)\|(.*)$", line)
        if not m:
            continue
        n = float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "E": 1e18}[m.group(2)]
        text = m.group(3).strip()
        counts[text] = max(counts.get(text, 0), n)
    return counts


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
    by_file = {}
    for suffix, text in REQUIRED_LINES.get(a.target, []):
        if suffix not in by_file:
            by_file[suffix] = line_counts(tool("llvm-cov"), prof, a.binary, suffix)
        n = max((c for t, c in by_file[suffix].items() if text in t), default=0)
        print(f"{a.target}: {suffix}: \"{text}\": {n:g} executions")
        if n == 0:
            missing.append(f"{suffix}: {text}")
    if missing:
        sys.exit(f"reach: {a.target} never executes: {', '.join(missing)}")
    lines = len(REQUIRED_LINES.get(a.target, []))
    print(f"reach: {a.target}: all {len(need)} required functions" + (f" and {lines} required lines" if lines else "") +
          " executed")


if __name__ == "__main__":
    main()
