/* tcg_eft.h - exact double arithmetic for tinycodegen models: Dekker's error-free product
 * (no FMA needed), Knuth's two-sum, a correctly rounded dot product (Dot2 where a double FPU
 * makes it cheap, the integer sum of tcg_idot.h where it cannot decide or double is
 * software), and the folded tables' double-to-float rounding. Part of tinycodegen; all functions are static inline, so any number of models can
 * include this header in one program.
 *
 * Needs IEEE-754 binary64 doubles rounding to nearest without excess precision
 * (FLT_EVAL_METHOD 0: any FPU or soft-float library, not the x87), and no contraction of
 * a*b+c into a fused multiply-add across statements (build with -ffp-contract=off). */
#ifndef TCG_EFT_H_INCLUDED
#define TCG_EFT_H_INCLUDED

#include <stdint.h>

#include "tcg_idot.h"

static inline double tcg_absd(double v) { return v < 0.0 ? -v : v; }

/* Dekker: a*b == *hi + *lo exactly, provided |a|, |b| < 2^996 and a*b is 0 or at least 2^-969
 * in magnitude (Veltkamp splitting into 26-bit halves, whose products are all exact). */
static inline void tcg_two_prod(double a, double b, double *hi, double *lo)
{
    const double ca = 134217729.0 * a; /* 2^27 + 1 */
    const double cb = 134217729.0 * b;
    const double ah = ca - (ca - a);
    const double bh = cb - (cb - b);
    const double al = a - ah;
    const double bl = b - bh;
    const double p = a * b;
    double t = ah * bh;
    t = t - p;
    t = t + ah * bl;
    t = t + al * bh;
    t = t + al * bl;
    *hi = p;
    *lo = t;
}

/* Knuth: a + b == *s + *e exactly (any magnitudes, barring overflow). */
static inline void tcg_two_sum(double a, double b, double *s, double *e)
{
    const double t = a + b;
    const double bb = t - a;
    *e = (a - (t - bb)) + (b - bb);
    *s = t;
}

/* Half the distance from a normal r to its nearer neighbour double (0 when r is 0, tiny,
 * subnormal or not finite). */
static inline double tcg_half_gap(double r)
{
    union {
        double d;
        uint64_t u;
    } v, h;
    uint64_t e;
    v.d = r;
    e = (v.u >> 52) & 0x7ffu;
    if (e < 56u || e == 0x7ffu) {
        return 0.0;
    }
    h.u = (e - 53u - ((v.u & 0xfffffffffffffu) == 0u ? 1u : 0u)) << 52;
    return h.d;
}

/* TCG_DOT_INTEGER 1: tcg_dot_exact is integer arithmetic only (tcg_idot.h), the default where
 * double is software (Arm without a double-precision FPU: Cortex-M0+, M4F; RISC-V without D):
 * no soft-double routine runs or links for it. 0: a compensated double dot product first
 * (cheap on a double FPU), the integer sum only where that cannot settle the rounding. Both
 * give the same, correctly rounded, double. */
#ifndef TCG_DOT_INTEGER
#if (defined(__ARM_ARCH) && !(defined(__ARM_FP) && ((__ARM_FP) & 8))) \
    || (defined(__riscv) && !(defined(__riscv_flen) && __riscv_flen >= 64))
#define TCG_DOT_INTEGER 1
#else
#define TCG_DOT_INTEGER 0
#endif
#endif

/* b + sum_i w[i * stride] * z[i], correctly rounded to double (exact for all finite
 * arguments). TCG_DOT_INTEGER 0 first runs Ogita, Rump and Oishi's Dot2: the exact sum is
 * r + q + d with |d| <= err = 4 g^2 (1 + g) sum|terms| (+ the underflow of the split pieces),
 * g = gamma_{n+2}; when even r + q +- err rounds to r, r is the answer. Otherwise (exact ties
 * are common: float inputs times double weights), and always under TCG_DOT_INTEGER 1, the
 * integer sum decides (tcg_idot). part: unused (kept for the callers' signature). */
static inline double tcg_dot_exact(const double *w, int32_t stride, const double *z, int32_t n,
                                   double b, double *part)
{
#if !TCG_DOT_INTEGER
    int32_t i;
    double s = b, c = 0.0, mag = tcg_absd(b), r, q, g, err;
    for (i = 0; i < n; ++i) {
        double p, e, t;
        tcg_two_prod(w[i * stride], z[i], &p, &e);
        tcg_two_sum(s, p, &s, &t);
        c = c + (t + e);
        mag = mag + tcg_absd(p);
    }
    tcg_two_sum(s, c, &r, &q);
    g = (double)(n + 2) * 1.1102230246251565e-16;
    g = g / (1.0 - g);
    err = 4.04 * g * g * (1.0 + g) * mag + (double)(n + 2) * 9.4e-323;
    if (err < tcg_half_gap(r) - tcg_absd(q)) {
        return r;
    }
#endif
    (void)part;
    return tcg_idot(w, stride, z, n, b);
}

/* d rounded to float (to nearest, ties to even), or +0.0f when |d| < 2^-126 (the smallest
 * normal float): tinycodegen's folded tables flush what is below it (families/linear/fold.py
 * _f32). Integer arithmetic on the bits, so a soft-float target runs no double routine; d's
 * beyond float's range take the compiler's conversion. Lets a folded fast path read the exact
 * path's double weights instead of storing float copies. */
static inline float tcg_f32_flush(double d)
{
    union {
        double d;
        uint64_t u;
    } v;
    union {
        uint32_t u;
        float f;
    } r;
    uint32_t hi, lo, e;
    v.d = d;
    hi = (uint32_t)(v.u >> 32);
    lo = (uint32_t)v.u;
    e = (hi >> 20) & 0x7ffu;
    if (e < 897u) {
        return 0.0f;
    }
    if (e > 1150u) {
        return (float)d;
    }
    r.u = ((e - 896u) << 23) | ((hi & 0xfffffu) << 3) | (lo >> 29);
    lo &= 0x1fffffffu; /* the 29 bits rounded off */
    if (lo > 0x10000000u || (lo == 0x10000000u && (r.u & 1u) != 0u)) {
        r.u += 1u; /* a carry into the exponent is the right rounding too */
    }
    r.u |= hi & 0x80000000u;
    return r.f;
}

#endif /* TCG_EFT_H_INCLUDED */
