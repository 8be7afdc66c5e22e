/* tcg_expit.h - probability formulas that need exp(): the logistic sigmoid as scipy's expit
 * computes it, softmax as sklearn.utils.extmath.softmax does, and one-vs-rest normalization.
 * Part of tinycodegen; static inline only. */
#ifndef TCG_EXPIT_H_INCLUDED
#define TCG_EXPIT_H_INCLUDED

#include <math.h>
#include <stdint.h>

#include "tcg_proba.h"

/* scipy.special.expit in double: 1 / (1 + exp(-m)). */
static inline double tcg_expit(double m) { return 1.0 / (1.0 + exp(-m)); }

/* Binary: [1 - expit(m), expit(m)]. */
static inline void tcg_proba_sigmoid(double m, double *p)
{
    p[1] = tcg_expit(m);
    p[0] = 1.0 - p[1];
}

/* p[c] = exp(m[c] - max m): the numerators of sklearn's softmax (extmath.softmax). */
static inline void tcg_softmax_exp(const double *m, int32_t k, double *p)
{
    int32_t c;
    double top = m[0];
    for (c = 1; c < k; ++c) {
        if (m[c] > top) {
            top = m[c];
        }
    }
    for (c = 0; c < k; ++c) {
        p[c] = exp(m[c] - top);
    }
}

/* exp(m - max m) / their numpy-order sum. */
static inline void tcg_proba_softmax(const double *m, int32_t k, double *p)
{
    int32_t c;
    double s;
    tcg_softmax_exp(m, k, p);
    s = tcg_np_sum(p, k);
    for (c = 0; c < k; ++c) {
        p[c] = p[c] / s;
    }
}

/* One-vs-rest: expit of each score, normalized (all-zero rows become uniform). */
static inline void tcg_proba_ovr(const double *m, int32_t k, double *p)
{
    int32_t c;
    for (c = 0; c < k; ++c) {
        p[c] = tcg_expit(m[c]);
    }
    tcg_normalize(p, k);
}

/* One-vs-rest as scikit-learn before 1.8: an all-zero row is 0 / 0 (NaN), as there. */
static inline void tcg_proba_ovr_nan(const double *m, int32_t k, double *p)
{
    int32_t c;
    double s;
    for (c = 0; c < k; ++c) {
        p[c] = tcg_expit(m[c]);
    }
    s = tcg_np_sum(p, k);
    for (c = 0; c < k; ++c) {
        p[c] = p[c] / s;
    }
}

#endif /* TCG_EXPIT_H_INCLUDED */
