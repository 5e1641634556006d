#!/bin/bash -eu
# OSS-Fuzz build step: the project's own script does the work, under the CC, CXX, CFLAGS,
# CXXFLAGS, LIB_FUZZING_ENGINE, SRC, WORK and OUT that OSS-Fuzz sets.
bash "$SRC/vqfuzz/scripts/oss-fuzz-build.sh" "$SRC/vqfuzz"
