/* tcg_vote.h - arg-max helpers for score vectors. Part of tinycodegen; static inline only. */
#ifndef TCG_VOTE_H_INCLUDED
#define TCG_VOTE_H_INCLUDED

#include <stdint.h>

#include "tcg_argmax.h"
#include "tcg_rom.h"

/* acc[k] += q[k] for k < n: one tree's fixed-point leaf vector (a TCG_ROM table) added to
 * the class sums. */
static inline void tcg_add_u16(uint32_t *acc, const uint16_t *q, int32_t n)
{
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc[k] += TCG_ROM_U16(&q[k]);
    }
}

/* s[best] minus the largest other score (UINT32_MAX when there is no other class). */
static inline uint32_t tcg_margin_u32(const uint32_t *s, int32_t n, int32_t best)
{
    int32_t i;
    uint32_t second = 0u;
    int any = 0;
    for (i = 0; i < n; ++i) {
        if (i != best && (!any || s[i] > second)) {
            second = s[i];
            any = 1;
        }
    }
    return any ? s[best] - second : UINT32_MAX;
}

/* tcg_argmax_f64 for non-negative, non-NaN scores (sums of probabilities): such doubles order
 * like their bit patterns, so the compare needs no (soft-)float routine. */
static inline int32_t tcg_argmax_f64_nonneg(const double *s, int32_t n)
{
    int32_t i, best = 0;
    uint64_t top;
    union {
        double d;
        uint64_t u;
    } v;
    v.d = s[0];
    top = v.u;
    for (i = 1; i < n; ++i) {
        v.d = s[i];
        if (v.u > top) {
            top = v.u;
            best = i;
        }
    }
    return best;
}

#endif /* TCG_VOTE_H_INCLUDED */
