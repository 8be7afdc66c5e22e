/* tcg_input.h - input checks shared by tinycodegen models. Part of tinycodegen; all functions
 * are static inline, so any number of models can include this header in one program. */
#ifndef TCG_INPUT_H_INCLUDED
#define TCG_INPUT_H_INCLUDED

#include <stdint.h>

#define TCG_FLT_MAX 3.40282347e+38f

/* 1 if v is +inf or -inf. */
static inline int tcg_is_inf(float v) { return v > TCG_FLT_MAX || v < -TCG_FLT_MAX; }

/* 1 if v is NaN (needs IEEE semantics: do not build with -ffast-math). */
static inline int tcg_is_nan(float v) { return v != v; }

/* Bit pattern of a float (union punning is defined behaviour in C99). */
static inline uint32_t tcg_bits(float f)
{
    union {
        float f;
        uint32_t u;
    } v;
    v.f = f;
    return v.u;
}

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

#endif /* TCG_INPUT_H_INCLUDED */
