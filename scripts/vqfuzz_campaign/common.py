"""Paths and small helpers shared by campaign, triage and report."""
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FINDING_PREFIXES = ("crash-", "timeout-", "oom-", "leak-")


def fuzz_build():
    return os.environ.get("VQF_FUZZ_BUILD", os.path.join(ROOT, "build", "fuzz"))


def cli_path():
    return os.environ.get("VQF_CLI", os.path.join(fuzz_build(), "harness", "cli", "vqfuzz"))


def target_bin(target):
    """Built-in targets are in targets/, targets of adapters (the examples, planted-bug
    variants) in examples/ of the same tree."""
    b = os.path.join(fuzz_build(), "targets", target)
    if not os.path.exists(b):
        ex = os.path.join(fuzz_build(), "examples", target)
        if os.path.exists(ex):
            return ex
    return b


def write_text(path, text):
    """The whole file or none of it: written beside PATH, then renamed over it. Readers never see
    half a file, even after Ctrl-C; a full disk leaves the previous version and no stray .tmp."""
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and e.filename is None:  # a failed write() names no file
            raise OSError(e.errno, e.strerror, path) from e
        raise


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def campaign_targets(d):
    """Targets of a campaign dir: campaign.json's list, else every subdir holding findings/ or stats."""
    meta = read_json(os.path.join(d, "campaign.json"), {}) or {}
    if meta.get("targets"):
        return list(meta["targets"])
    out = []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if name not in ("corpus", "minimized", "plots") and os.path.isdir(p) and (
                os.path.isdir(os.path.join(p, "findings")) or os.path.exists(os.path.join(p, "stats.csv"))):
            out.append(name)
    return out


def finding_files(d, target):
    fd = os.path.join(d, target, "findings")
    if not os.path.isdir(fd):
        return []
    return sorted(os.path.join(fd, n) for n in os.listdir(fd)
                  if n.startswith(FINDING_PREFIXES) and not n.endswith(".log"))
