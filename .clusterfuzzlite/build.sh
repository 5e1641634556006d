#!/bin/bash -eu
# ClusterFuzzLite build step: same script as OSS-Fuzz (oss-fuzz/build.sh).
bash "$SRC/vqfuzz/scripts/oss-fuzz-build.sh" "$SRC/vqfuzz"
