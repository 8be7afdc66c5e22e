/* tcg_qbin.h - float-to-bin helpers for quantized tinycodegen models: integer-only comparisons
 * of float inputs against sorted float thresholds. Part of tinycodegen; all functions are static
 * inline, so any number of models can include this header in one program. */
#ifndef TCG_QBIN_H_INCLUDED
#define TCG_QBIN_H_INCLUDED

#include <stdint.h>

#include "tcg_bits.h"
#include "tcg_rom.h"

/* How many of the n ascending keys t[0..n-1] (a TCG_ROM table) are below key (binary search;
 * few live registers, for small cores). */
static inline uint32_t tcg_count_below(const uint32_t *t, uint32_t n, uint32_t key)
{
    const uint32_t *p = t;
    while (n > 0u) {
        const uint32_t half = n >> 1;
        if (TCG_ROM_U32(&p[half]) < key) {
            p += half + 1u;
            n -= half + 1u;
        } else {
            n = half;
        }
    }
    return (uint32_t)(p - t);
}

#endif /* TCG_QBIN_H_INCLUDED */
