/* tcg_calib.h - the calibrators of scikit-learn's CalibratedClassifierCV in double: Platt's
 * sigmoid as _SigmoidCalibration.predict computes it and IsotonicRegression.predict (np.interp
 * with clipping). Part of tinycodegen; static inline only. Build with -ffp-contract=off (no
 * fused multiply-add where numpy has a product and a sum). */
#ifndef TCG_CALIB_H_INCLUDED
#define TCG_CALIB_H_INCLUDED

#include <stdint.h>

#include "tcg_expit.h"

/* expit(-(a * t + b)): the product, the sum, the negation, then scipy's expit. */
static inline double tcg_calib_sigmoid(double t, double a, double b)
{
    const double m = a * t;
    return tcg_expit(-(m + b));
}

/* np.interp(clip(t, xp[0], xp[n-1]), xp, fp) for n >= 1 strictly increasing thresholds (n == 1:
 * sklearn's constant fp[0]). numpy's rule: j the last threshold <= t; fp[j] when t is that
 * threshold or the last one, else slope * (t - xp[j]) + fp[j] (NaN: from the right end). */
static inline double tcg_calib_interp(double t, const double *xp, const double *fp, int32_t n)
{
    int32_t lo = 0, hi = n - 1;
    double slope, r;
    if (n == 1) {
        return fp[0];
    }
    if (t < xp[0]) {
        t = xp[0];
    }
    if (t >= xp[n - 1]) {
        return fp[n - 1];
    }
    while (hi - lo > 1) { /* xp[lo] <= t < xp[hi] */
        const int32_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    if (xp[lo] == t) {
        return fp[lo];
    }
    slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
    r = slope * (t - xp[lo]) + fp[lo];
    if (r != r) {
        r = slope * (t - xp[lo + 1]) + fp[lo + 1];
        if (r != r && fp[lo] == fp[lo + 1]) {
            r = fp[lo];
        }
    }
    return r;
}

/* The same for thresholds fitted on float32 values: sklearn casts t to float32 and scipy's
 * interp1d interpolates in float32: i = searchsorted(xp, t, "left") clipped to [1, n - 1],
 * (fp[i] - fp[i-1]) / (xp[i] - xp[i-1]) * (t - xp[i-1]) + fp[i-1]. */
static inline float tcg_calib_interp32(double v, const float *xp, const float *fp, int32_t n)
{
    float t = (float)v, slope;
    int32_t lo = 0, hi = n - 1;
    if (n == 1) {
        return fp[0];
    }
    if (t < xp[0]) {
        t = xp[0];
    }
    if (t > xp[n - 1]) {
        t = xp[n - 1];
    }
    if (t <= xp[0]) {
        hi = 1;
    } else {
        while (hi - lo > 1) { /* xp[lo] < t <= xp[hi] */
            const int32_t mid = lo + (hi - lo) / 2;
            if (xp[mid] < t) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
    }
    slope = (fp[hi] - fp[hi - 1]) / (xp[hi] - xp[hi - 1]);
    return slope * (t - xp[hi - 1]) + fp[hi - 1];
}

/* sklearn: probabilities in (1, 1 + 1e-5] become exactly 1. */
static inline void tcg_calib_clip(double *p, int32_t n, double top)
{
    int32_t c;
    for (c = 0; c < n; ++c) {
        if (p[c] > 1.0 && p[c] <= top) {
            p[c] = 1.0;
        }
    }
}

#endif /* TCG_CALIB_H_INCLUDED */
