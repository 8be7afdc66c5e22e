/* tcg_input.h - input checks shared by tinycodegen models. Part of tinycodegen; all functions
 * are static inline, so any number of models can include this header in one program. */
#ifndef TCG_INPUT_H_INCLUDED
#define TCG_INPUT_H_INCLUDED

#include <stdint.h>

#include "tcg_bits.h"

#define TCG_FLT_MAX 3.40282347e+38f

/* 1 if v is +inf or -inf. */
static inline int tcg_is_inf(float v) { return v > TCG_FLT_MAX || v < -TCG_FLT_MAX; }

/* 1 if v is NaN (needs IEEE semantics: do not build with -ffast-math). */
static inline int tcg_is_nan(float v) { return v != v; }

/* 1 if every value is usable: never infinite, and NaN only when nan_ok. Branch-free over the
 * bit patterns: an all-ones exponent (inf or NaN) carries into bit 31 when 2^23 is added. */
static inline int tcg_input_ok(const float *x, int32_t n, int nan_ok)
{
    int32_t i;
    uint32_t bad = 0u;
    if (nan_ok) {
        for (i = 0; i < n; ++i) {
            bad |= (uint32_t)((tcg_bits(x[i]) & 0x7fffffffu) == 0x7f800000u);
        }
        return bad == 0u;
    }
    for (i = 0; i < n; ++i) {
        bad |= (tcg_bits(x[i]) & 0x7f800000u) + 0x00800000u;
    }
    return (bad & 0x80000000u) == 0u;
}

/* Sets n outputs to zero (the documented output for rejected input). */
static inline void tcg_zero(float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = 0.0f;
    }
}

/* ---- Integer walks for trees: ordered keys, a fused check, NaN stand-ins ------------------- */

/* Layout hint for generated walks: c is usually true. No effect on results. GCC and Clang put
 * the likely target on the fall-through path; at -Os GCC already does that for a goto target
 * and the hint only perturbs its other choices (measured slower), so it is left out there. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define TCG_LIKELY(c) __builtin_expect((c) != 0, 1)
#else
#define TCG_LIKELY(c) (c)
#endif

/* Stand-ins for NaN in the walks' inputs: above every threshold key (NaN goes right) and
 * below every one (NaN goes left). No finite float has either key. */
#define TCG_NAN_RIGHT INT32_MAX
#define TCG_NAN_LEFT (-INT32_MAX - 1)

/* 1 if f is NaN, tested on the bits (no float compare: no soft-float call on cores without FPU). */
static inline int tcg_isnan_bits(float f)
{
    return (tcg_bits(f) << 1) > 0xff000000u;
}

/* 1 if any value is +-inf, plus 2 if any is NaN (one pass, classifying only on the rare bad
 * input). */
static inline int tcg_classify(const float *x, int32_t n)
{
    int32_t i;
    int s = 0;
    for (i = 0; i < n; ++i) {
        const uint32_t b = tcg_bits(x[i]) << 1;
        if (b >= 0xff000000u) {
            s |= b == 0xff000000u ? 1 : 2;
        }
    }
    return s;
}

/* The exponent field all ones (inf or NaN) carries into bit 31 when 2^23 is added. */
#define TCG_NONFINITE(b) ((((uint32_t)(b)) & 0x7f800000u) + 0x00800000u)

/* tcg_classify(x, n), branch-free over 8 values per step while every value is finite. */
static inline int tcg_scan(const float *x, int32_t n)
{
    int32_t i = 0;
    uint32_t bad = 0u;
    for (; i + 8 <= n; i += 8) {
        bad |= TCG_NONFINITE(tcg_bits(x[i])) | TCG_NONFINITE(tcg_bits(x[i + 1]))
               | TCG_NONFINITE(tcg_bits(x[i + 2])) | TCG_NONFINITE(tcg_bits(x[i + 3]))
               | TCG_NONFINITE(tcg_bits(x[i + 4])) | TCG_NONFINITE(tcg_bits(x[i + 5]))
               | TCG_NONFINITE(tcg_bits(x[i + 6])) | TCG_NONFINITE(tcg_bits(x[i + 7]));
    }
    for (; i < n; ++i) {
        bad |= TCG_NONFINITE(tcg_bits(x[i]));
    }
    return (bad & 0x80000000u) != 0u ? tcg_classify(x, n) : 0;
}

/* k[i] = tcg_key(bits of x[i]), NaN -> nan_key; returns tcg_classify(x, n). Fused with the
 * check, 4 values per step. */
static inline int tcg_keys(const float *x, int32_t *k, int32_t n, int32_t nan_key)
{
    int32_t i = 0;
    uint32_t bad = 0u;
    for (; i + 4 <= n; i += 4) {
        const int32_t b0 = tcg_i32(x[i]), b1 = tcg_i32(x[i + 1]);
        const int32_t b2 = tcg_i32(x[i + 2]), b3 = tcg_i32(x[i + 3]);
        bad |= TCG_NONFINITE(b0) | TCG_NONFINITE(b1) | TCG_NONFINITE(b2) | TCG_NONFINITE(b3);
        k[i] = tcg_key(b0);
        k[i + 1] = tcg_key(b1);
        k[i + 2] = tcg_key(b2);
        k[i + 3] = tcg_key(b3);
    }
    for (; i < n; ++i) {
        const int32_t b = tcg_i32(x[i]);
        bad |= TCG_NONFINITE(b);
        k[i] = tcg_key(b);
    }
    if ((bad & 0x80000000u) == 0u) {
        return 0;
    }
    for (i = 0; i < n; ++i) {
        if (tcg_isnan_bits(x[i])) {
            k[i] = nan_key;
        }
    }
    return tcg_classify(x, n);
}

/* out[i] = x[i], each NaN replaced by the float whose bits are nan_bits (raw-bit walks). */
static inline void tcg_nan_fill(const float *x, float *out, int32_t n, int32_t nan_bits)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_isnan_bits(x[i]) ? tcg_f32(nan_bits) : x[i];
    }
}

/* out[i] = k[i], with the value from replaced by to. */
static inline void tcg_key_swap(const int32_t *k, int32_t *out, int32_t n, int32_t from,
                                int32_t to)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = k[i] == from ? to : k[i];
    }
}

#endif /* TCG_INPUT_H_INCLUDED */
