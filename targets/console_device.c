/* Fuzz target console_device: see the target table in harness/targets.c. */
#include "harness/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return vqf_fuzz_one("console_device", data, size); }
