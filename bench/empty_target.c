/* The engine's ceiling: a fuzz target that does nothing. `vqfuzz bench` (bench/suite) builds it
 * with the compile flags of the fuzz build's targets (clang, ASan+UBSan, libFuzzer coverage)
 * and runs it under the same engine in the same session as the built-in targets: the exec/s
 * it reaches is what the engine itself costs, and each target's exec/s is reported as a
 * fraction of it. Not part of the CMake glob of bench/ (it has no main). */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
