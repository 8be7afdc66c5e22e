/* tcg_qbin.h - float-to-bin helpers for quantized tinycodegen models: integer-only comparisons
 * of float inputs against sorted float thresholds. Part of tinycodegen; all functions are static
 * inline, so any number of models can include this header in one program. */
#ifndef TCG_QBIN_H_INCLUDED
#define TCG_QBIN_H_INCLUDED

#include <stdint.h>

#include "tcg_rom.h"

/* The IEEE-754 bits of a float (union type punning, as C99 TC3 allows). */
static inline uint32_t tcg_f32_bits(float v)
{
    union {
        float f;
        uint32_t u;
    } c;
    c.f = v;
    return c.u;
}

/* The IEEE-754 bits of a float as int32_t: for floats >= +0 these order like the floats, and
 * every negative float (-0.0 included) has negative bits. */
static inline int32_t tcg_f32_ibits(float v)
{
    union {
        float f;
        int32_t i;
    } c;
    c.f = v;
    return c.i;
}

/* Order-preserving key of non-NaN float bits (branch-free): a < b as floats exactly when
 * key(a) < key(b), except that -0.0 gets 0x7fffffff, just below +0.0's 0x80000000. Against
 * threshold keys made from floats other than -0.0 (tinycodegen stores -0.0 as +0.0), x <= t
 * and x < t are therefore decided exactly as IEEE compares them. */
static inline uint32_t tcg_f32_key(uint32_t u)
{
    return u ^ ((0u - (u >> 31)) | 0x80000000u);
}

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
