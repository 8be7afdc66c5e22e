/* tcg_qvote.h - integer soft voting of quantized members. Part of tinycodegen; static inline
 * only. Defined bit for bit by tinycodegen/ir/qhybrid.py. */
#ifndef TCG_QVOTE_H_INCLUDED
#define TCG_QVOTE_H_INCLUDED

#include <stdint.h>

/* s[c] += w * floor(num[c] * 2^16 / den) for c < n; num[c] <= den, 0 < den < 2^16 (32-bit
 * division only). */
static inline void tcg_qvote_add16(uint32_t *s, const uint32_t *num, uint32_t den, uint32_t w,
                                   int32_t n)
{
    int32_t c;
    for (c = 0; c < n; ++c) {
        s[c] += w * ((num[c] << 16) / den);
    }
}

/* The same for any 0 < den < 2^32 (64-bit division). */
static inline void tcg_qvote_add64(uint32_t *s, const uint32_t *num, uint32_t den, uint32_t w,
                                   int32_t n)
{
    int32_t c;
    for (c = 0; c < n; ++c) {
        s[c] += w * (uint32_t)(((uint64_t)num[c] << 16) / den);
    }
}

#endif /* TCG_QVOTE_H_INCLUDED */
