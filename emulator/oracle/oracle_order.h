/* The oracle's ordering checks under the memory-visibility model (emulator/visibility.h):
 * what only a weak-memory execution shows. On for an input only when the executor installs
 * the model (harness/exec_vis.c), so that every other input is judged exactly as before.
 *
 *   - a decision read made while the reading side's own publication is still in its store
 *     buffer (no full barrier between them): the driver's kick decision, SPLIT-PUB-02 /
 *     PACK-PUB-02 (2.7.13.4.1, 2.8.21.3.1); the device's interrupt decision, SPLIT-UNS-10 /
 *     SPLIT-UNS-08 (2.7.7.2): the other side can be waiting for a notification that the
 *     decision, made on state it has not been shown, never sends;
 *   - the driver reading a used element with bytes from before their publication, which the
 *     model serves when no read barrier follows the read of used->idx: it consumes an entry
 *     used->idx had not covered yet as far as that read is concerned (SPLIT-UNS-05, 2.7.7.1;
 *     the read barrier of 2.7.13 / Linux virtqueue_get_buf);
 *   - at idle, under EVENT_IDX, a driver publication that became visible with neither a kick
 *     nor a read of avail_event after it: a lost kick if avail_event, as it stood then, asked
 *     for one (SPLIT-ANS-06, 2.7.10.1), else a kick decision taken before the publication
 *     (SPLIT-PUB-02, 2.7.13.4.1). (The device's twin is not judged at idle: a device that
 *     gives up with DEVICE_NEEDS_RESET right after publishing legitimately decides nothing.) */
#ifndef VQF_ORACLE_ORDER_H
#define VQF_ORACLE_ORDER_H

#include <stdbool.h>
#include <stdint.h>

struct vqf_oracle;

#define VQF_OR_ORDER_MAXQ 16 /* = OQ_MAX */

struct vqf_or_order {
    bool on;
    /* per queue: avail_event as it stood when the driver's last publication became visible
     * (split, EVENT_IDX) */
    uint16_t kick_ev[VQF_OR_ORDER_MAXQ];
};

/* The executor: this input runs under the visibility model (after vqf_oracle_begin). */
void vqf_oracle_order_enable(struct vqf_oracle *o, bool on);

/* oracle.c */
void vqf_or_order_read(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len);
void vqf_or_order_write(struct vqf_oracle *o, unsigned side, uint64_t gpa, uint64_t len);
void vqf_or_order_idle(struct vqf_oracle *o);

#endif
