/* tcg_preprocess.h - input transforms (scalers, encoders) shared by tinycodegen models. Part of
 * tinycodegen; all functions are static inline, so any number of models can include it.
 *
 * Scalers run in double, one IEEE operation at a time in sklearn's order (build with
 * -ffp-contract=off and without -ffast-math, so no operation is fused or reordered). */
#ifndef TCG_PREPROCESS_H_INCLUDED
#define TCG_PREPROCESS_H_INCLUDED

#include <float.h>
#include <stdint.h>

#define TCG_DBL_MAX DBL_MAX /* 1.7976931348623157e+308 where double is IEEE binary64 */
#define TCG_PP_NAN (0.0 / 0.0) /* table entries sklearn computes as NaN (e.g. unknown_value) */
#define TCG_PP_INF (1.0 / 0.0)

/* 1 if v is +inf or -inf (what a scaler's input validation rejects; NaN passes). */
static inline int tcg_pp_is_inf(double v) { return v > TCG_DBL_MAX || v < -TCG_DBL_MAX; }

/* 1 if v is neither NaN nor infinite. */
static inline int tcg_pp_finite(double v) { return v == v && !tcg_pp_is_inf(v); }

/* numpy's clip(v, lo, hi) for lo <= hi: NaN stays NaN. */
static inline double tcg_pp_clip(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* A categorical input: the index of its value in the encoder's categories_ (0 .. n - 1), or -1
 * for a value the encoder never saw. Writes the code and returns 1 for such a value; returns 0
 * for anything else (NaN, +-inf, a fraction, below -1, n or above). */
static inline int tcg_pp_code(float v, int32_t n, int32_t *code)
{
    int32_t c;
    if (!(v >= -1.0f && v <= (float)(n - 1))) {
        return 0;
    }
    c = (int32_t)v;
    if ((float)c != v) {
        return 0;
    }
    *code = c;
    return 1;
}

/* Index of the string s among names[0 .. n - 1] (exact, byte for byte), -1 if absent or NULL. */
static inline int32_t tcg_pp_lookup(const char *const *names, int32_t n, const char *s)
{
    int32_t i;
    if (s == 0) {
        return -1;
    }
    for (i = 0; i < n; ++i) {
        const char *a = names[i];
        const char *b = s;
        while (*a != '\0' && *a == *b) {
            ++a;
            ++b;
        }
        if (*a == *b) {
            return i;
        }
    }
    return -1;
}

#endif /* TCG_PREPROCESS_H_INCLUDED */
