/* A device that runs off the end of a guest-memory region through a raw host pointer (the
 * way third-party device code writes) must be caught: the guard zone after every region is
 * poisoned for ASan. This program does exactly that overrun; ctest expects ASan's report. */
#include <stdio.h>
#include <string.h>

#include "emulator/mem.h"

int main(int argc, char **argv)
{
    struct vqf_mem m;
    struct vqf_mem_layout l;
    vqf_mem_default_layout(&l, 64 << 10);
    if (vqf_mem_init(&m, &l) != 0)
        return 2;
    struct vqf_dma d = vqf_mem_dma(&m, VQF_SIDE_DEVICE);
    int region = argc > 1 ? argv[1][0] - '0' : 0;
    uint64_t end = l.r[region].gpa + l.r[region].size;
    /* A legitimate mapping of the last 64 bytes of the region... */
    volatile uint8_t *p = vqf_dma_map(&d, end - 64, 64, 1);
    if (!p)
        return 2;
    /* ...and a device bug: it writes 65 bytes. */
    for (int i = 0; i <= 64; i++)
        p[i] = 0xee;
    printf("overrun was not caught\n");
    vqf_mem_destroy(&m);
    return 0;
}
