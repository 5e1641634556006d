#!/usr/bin/env bash
# The report renders in a browser: headless Chromium loads index.html of a synthetic campaign
# (no network: the page is self-contained) and the DOM it builds names the targets and the clause.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
"$root/scripts/deps" chromium python3-matplotlib >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/test_tooling.py" "$tmp/camp"
browser=$(command -v chromium || command -v chromium-browser)
dom=$(timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
  --dump-dom "file://$tmp/camp/index.html" 2>/dev/null)
fail=0
for want in rng_driver blk_device mmio SPLIT-DSC-04 "heap-buffer-overflow" "<img" "Ring code" "emulator/ring/split.c"; do
  grep -q -- "$want" <<<"$dom" || { echo "DOM lacks: $want"; fail=1; }
done
[ $fail = 0 ] && echo "test_report_browser: ok"
exit $fail
