/* tcg_proba.h - probability formulas of scikit-learn's linear models that need no libm, and
 * numpy's summation order. Part of tinycodegen; static inline only. */
#ifndef TCG_PROBA_H_INCLUDED
#define TCG_PROBA_H_INCLUDED

#include <stdint.h>

/* v[0] + ... + v[n-1] in numpy's order for a row of n <= 128 doubles: left to right below 8,
 * else eight interleaved partial sums combined pairwise, then the tail left to right. */
static inline double tcg_np_sum(const double *v, int32_t n)
{
    double r[8], s;
    int32_t i, j;
    if (n < 8) {
        s = v[0];
        for (i = 1; i < n; ++i) {
            s = s + v[i];
        }
        return s;
    }
    for (j = 0; j < 8; ++j) {
        r[j] = v[j];
    }
    for (i = 8; i + 8 <= n; i += 8) {
        for (j = 0; j < 8; ++j) {
            r[j] = r[j] + v[i + j];
        }
    }
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) {
        s = s + v[i];
    }
    return s;
}

/* p /= sum(p) in numpy's order; an all-zero row becomes uniform (sklearn's rule). */
static inline void tcg_normalize(double *p, int32_t n)
{
    int32_t c;
    double s = tcg_np_sum(p, n);
    if (s == 0.0) {
        for (c = 0; c < n; ++c) {
            p[c] = 1.0;
        }
        s = (double)n;
    }
    for (c = 0; c < n; ++c) {
        p[c] = p[c] / s;
    }
}

/* SGDClassifier(loss="modified_huber"): (clip(m, -1, 1) + 1) / 2, normalized over classes. */
static inline void tcg_proba_mhuber(const double *m, int32_t k, double *p)
{
    int32_t c;
    for (c = 0; c < k; ++c) {
        const double v = m[c] > 1.0 ? 1.0 : (m[c] < -1.0 ? -1.0 : m[c]);
        p[c] = (v + 1.0) / 2.0;
    }
    if (k == 1) {
        p[1] = p[0];
        p[0] = 1.0 - p[1];
    } else {
        tcg_normalize(p, k);
    }
}

#endif /* TCG_PROBA_H_INCLUDED */
