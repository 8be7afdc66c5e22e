/* tinycodegen: unicorn basic-block hook that records the executed blocks.
 *
 * Built as a tiny host shared library and registered with uc_hook_add() for
 * UC_HOOK_BLOCK, so that no Python runs per block.  Each call appends the
 * block's start address and size; when the buffer is full it sets `overflow`
 * and stops the emulation (a runaway guard), so the caller can flush and
 * retry or report the row.  C99, no dependencies: unicorn's uc_emu_stop is
 * passed in as a function pointer, so nothing links against libunicorn.
 */
#include <stdint.h>

typedef int (*tcg_uc_stop_fn)(void *uc);

typedef struct {
    uint32_t *addr;
    uint32_t *size;
    uint64_t cap;
    uint64_t n;
    uint32_t overflow;
    uint32_t pad_;
    tcg_uc_stop_fn emu_stop;
} tcg_trace_t;

void tcg_trace_block(void *uc, uint64_t address, uint32_t size, void *user)
{
    tcg_trace_t *t = (tcg_trace_t *)user;
    if (t->n < t->cap) {
        t->addr[t->n] = (uint32_t)address;
        t->size[t->n] = size;
        t->n++;
    } else if (!t->overflow) {
        t->overflow = 1u;
        t->emu_stop(uc);
    }
}
