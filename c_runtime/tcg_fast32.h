/* tcg_fast32.h - float helpers of the fast paths of tinycodegen's linear models and MLPs: the
 * generated code computes in float with a rigorous bound on its rounding error and calls these
 * to decide only when the bound proves the answer. Part of tinycodegen; static inline only. */
#ifndef TCG_FAST32_H_INCLUDED
#define TCG_FAST32_H_INCLUDED

#include <stdint.h>

#include "tcg_argmax.h"

#define TCG_DBL_FLT_MAX 3.4028234663852886e+38

/* The fast loops keep 4 independent sums ("lanes"). Written with small arrays, compilers map the
 * lanes onto SIMD registers; written as 4 scalars, scalar FPUs (Cortex-M4F) keep them in
 * registers. Both forms perform the same float operations in the same order, so the results
 * are identical; -DTCG_SIMD_LANES=0 or 1 overrides the choice. */
#ifndef TCG_SIMD_LANES
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__ARM_NEON__) || defined(__ALTIVEC__)
#define TCG_SIMD_LANES 1
#else
#define TCG_SIMD_LANES 0
#endif
#endif

/* |v|: the sign bit cleared (exactly fabsf, branch-free, no libm needed). */
static inline float tcg_absf(float v)
{
#if defined(__GNUC__)
    return __builtin_fabsf(v);
#else
    union {
        float f;
        uint32_t u;
    } b;
    b.f = v;
    b.u &= 0x7fffffffu;
    return b.f;
#endif
}

/* |r| with the sign bit of s (copysignf). */
static inline float tcg_copysignf(float r, float s)
{
    union {
        float f;
        uint32_t u;
    } a, b;
    a.f = r;
    b.f = s;
    a.u = (a.u & 0x7fffffffu) | (b.u & 0x80000000u);
    return a.f;
}

/* 1 when s[best] - s[c] > bound[best] + bound[c] for every c != best: then the exact scores keep
 * best strictly first. Any NaN or infinity makes it 0. */
static inline int tcg_sure_argmax_f32(const float *s, const float *bound, int32_t n, int32_t best)
{
    int32_t c;
    for (c = 0; c < n; ++c) {
        if (c != best) {
            const float diff = s[best] - s[c];
            const float room = bound[best] + bound[c];
            if (!(diff > room)) {
                return 0;
            }
        }
    }
    return 1;
}

/* 1 when every value is at most amax (0 for NaN). */
static inline int tcg_all_le_f32(const float *v, int32_t n, float amax)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (!(v[i] <= amax)) {
            return 0;
        }
    }
    return 1;
}

static inline float tcg_maxf(float a, float b) { return a > b ? a : b; }

/* Largest |v[i]| (inputs are never NaN here; max is exact, so the 4 lanes change nothing). */
static inline float tcg_maxabs_f32(const float *v, int32_t n)
{
    int32_t i;
#if TCG_SIMD_LANES
    float m[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int32_t j;
    for (i = 0; i + 4 <= n; i += 4) {
        for (j = 0; j < 4; ++j) {
            m[j] = tcg_maxf(tcg_absf(v[i + j]), m[j]);
        }
    }
    for (; i < n; ++i) {
        m[0] = tcg_maxf(tcg_absf(v[i]), m[0]);
    }
    return tcg_maxf(tcg_maxf(m[0], m[1]), tcg_maxf(m[2], m[3]));
#else
    float m0 = 0.0f, m1 = 0.0f, m2 = 0.0f, m3 = 0.0f;
    for (i = 0; i + 4 <= n; i += 4) {
        m0 = tcg_maxf(tcg_absf(v[i]), m0);
        m1 = tcg_maxf(tcg_absf(v[i + 1]), m1);
        m2 = tcg_maxf(tcg_absf(v[i + 2]), m2);
        m3 = tcg_maxf(tcg_absf(v[i + 3]), m3);
    }
    for (; i < n; ++i) {
        m0 = tcg_maxf(tcg_absf(v[i]), m0);
    }
    return tcg_maxf(tcg_maxf(m0, m1), tcg_maxf(m2, m3));
#endif
}

/* zf[i] = (float)z[i], rounded to nearest; 0 when some |z[i]| exceeds the float range (the
 * conversion would be undefined), so that the caller takes its exact path. */
static inline int tcg_narrow_f32(const double *z, float *zf, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const double v = z[i];
        if (!(v <= TCG_DBL_FLT_MAX && v >= -TCG_DBL_FLT_MAX)) {
            return 0;
        }
        zf[i] = (float)v;
    }
    return 1;
}

#endif /* TCG_FAST32_H_INCLUDED */
