/* tcg_qsvm.h - integer helpers of quantized RBF SVMs. Part of tinycodegen; all functions are
 * static inline, so any number of models can include this header in one program.
 *
 * Defined bit for bit by tinycodegen/ir/qsvm.py. Needs tcg_qnet.h (requantization, tables). */
#ifndef TCG_QSVM_H_INCLUDED
#define TCG_QSVM_H_INCLUDED

#include <stdint.h>

#include "tcg_qnet.h"

/* 16-bit 65535 * exp(-t) of a squared distance d2 >= 0: t = requant(min(d2, clamp), mult,
 * shift) in units of 16 / 65536, from the 257-entry exp table over [-16, 0]. */
static inline int32_t tcg_qsvm_kernel(int64_t d2, int64_t clamp, int64_t mult, int32_t shift,
                                      const uint16_t *exp_table)
{
    const int64_t r = tcg_q_requant(d2 < clamp ? d2 : clamp, mult, shift);
    return tcg_q_interp_u16(exp_table, 256, 65536 - (r < 65536 ? r : 65536));
}

/* v clamped to [-lim, lim]. */
static inline int64_t tcg_qsvm_clamp64(int64_t v, int64_t lim)
{
    return v < -lim ? -lim : (v > lim ? lim : v);
}

/* libsvm's one-vs-one vote over the n (n - 1) / 2 decision values in pair order (0, 1),
 * (0, 2), ..., (1, 2), ...: dec > 0 votes the first class, else the second; the first class
 * with the most votes wins. votes: n scratch ints. */
static inline int32_t tcg_qsvm_vote(const int64_t *dec, int32_t n, int32_t *votes)
{
    int32_t i, j, p = 0;
    for (i = 0; i < n; ++i) {
        votes[i] = 0;
    }
    for (i = 0; i < n; ++i) {
        for (j = i + 1; j < n; ++j) {
            if (dec[p] > 0) {
                ++votes[i];
            } else {
                ++votes[j];
            }
            ++p;
        }
    }
    return tcg_argmax_i32(votes, n);
}

#endif /* TCG_QSVM_H_INCLUDED */
