/* tcg_act32.h - float activations of the MLP fast path, using + - * / only (no libm), so that
 * their results are the same bits on every IEEE-754 target and a NumPy replay reproduces them.
 * Their absolute error against the exact function is bounded (see tinycodegen/ir/mlp.py; the
 * bound is checked over every float input by benchmarks/verify_act32.py). Part of tinycodegen;
 * static inline only. */
#ifndef TCG_ACT32_H_INCLUDED
#define TCG_ACT32_H_INCLUDED

#include <stdint.h>

#include "tcg_fast32.h"

static inline float tcg_relu_f32(float v) { return v > 0.0f ? v : 0.0f; }

/* ReLU of the exact (double) path, as numpy's maximum(a, 0) for non-NaN a. */
static inline double tcg_relu64(double v) { return v > 0.0 ? v : 0.0; }

/* e^-t for 0 <= t <= 18: 2^y with y = -t log2(e) = k + f, |f| <= 1/2; 2^f from a degree-6
 * polynomial (relative error below 2e-7), 2^k exactly from the exponent bits. */
static inline float tcg_expneg_f32(float t)
{
    union {
        uint32_t u;
        float f;
    } scale;
    const float y = t * -1.44269502f;
    const int32_t k = (int32_t)(y - 0.5f); /* y - 0.5 < 0: truncation rounds up */
    const float f = y - (float)k;
    float p = 1.53533372e-04f;
    p = p * f + 1.33988750e-03f;
    p = p * f + 9.61843785e-03f;
    p = p * f + 5.55033237e-02f;
    p = p * f + 2.40226477e-01f;
    p = p * f + 6.93147182e-01f;
    p = p * f;
    p = p + 1.0f;
    scale.u = (uint32_t)(127 + k) << 23;
    return p * scale.f;
}

/* tanh(v): (1 - e) / (1 + e) with e = e^-2|v| (1 from |v| >= 9), given the sign of v. */
static inline float tcg_tanh_f32(float v)
{
    const float t = tcg_absf(v);
    float r = 1.0f;
    if (t < 9.0f) {
        const float e = tcg_expneg_f32(t + t);
        r = (1.0f - e) / (1.0f + e);
    }
    return tcg_copysignf(r, v);
}

/* 1 / (1 + e^-v): r = 1 / (1 + e^-|v|) (1 from |v| >= 17), then 1/2 +- (r - 1/2) by the sign
 * of v (both steps exact: the v < 0 result is exactly 1 - r). */
static inline float tcg_logistic_f32(float v)
{
    const float t = tcg_absf(v);
    float r = 1.0f;
    if (t < 17.0f) {
        r = 1.0f / (1.0f + tcg_expneg_f32(t));
    }
    return 0.5f + tcg_copysignf(r - 0.5f, v);
}

#endif /* TCG_ACT32_H_INCLUDED */
