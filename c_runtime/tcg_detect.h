/* tcg_detect.h - shared pieces of the outlier detectors' C. Part of tinycodegen; all functions
 * are static inline, so any number of models can include this header in one program. */
#ifndef TCG_DETECT_H_INCLUDED
#define TCG_DETECT_H_INCLUDED

#include <stdint.h>

/* A quiet NaN: what decision_function and score_samples return for rejected input. */
static inline float tcg_nanf(void)
{
    union {
        uint32_t u;
        float f;
    } v;
    v.u = 0x7fc00000u;
    return v.f;
}

/* sum a[j] * b[j] in the order SciPy's distance loops use on this host ("lanes2": two
 * accumulators over even / odd j, added, then the odd tail; "sequential": j = 0, 1, ...).
 * Build with -ffp-contract=off: no fused multiply-add where the source has none. */
static inline double tcg_dot_lanes2(const double *a, const double *b, int32_t n)
{
    double s0 = 0.0, s1 = 0.0;
    int32_t j = 0;
    for (; j + 2 <= n; j += 2) {
        s0 += a[j] * b[j];
        s1 += a[j + 1] * b[j + 1];
    }
    s0 += s1;
    for (; j < n; ++j) {
        s0 += a[j] * b[j];
    }
    return s0;
}

static inline double tcg_dot_sequential(const double *a, const double *b, int32_t n)
{
    double s = 0.0;
    int32_t j;
    for (j = 0; j < n; ++j) {
        s += a[j] * b[j];
    }
    return s;
}

#endif /* TCG_DETECT_H_INCLUDED */
