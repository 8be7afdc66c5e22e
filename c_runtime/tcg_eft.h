/* tcg_eft.h - exact double arithmetic for tinycodegen models: Dekker's error-free product
 * (no FMA needed), Shewchuk's exact partial sums, and from them a correctly rounded dot
 * product. Part of tinycodegen; all functions are static inline, so any number of models can
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

/* Adds x to the n partials p[0..n-1] (nonoverlapping, increasing in magnitude, their exact sum
 * is the running total): Shewchuk's grow-expansion with zero elimination. Returns the new count,
 * at most n + 1. */
static inline int32_t tcg_partials_add(double *p, int32_t n, double x)
{
    int32_t j, k = 0;
    for (j = 0; j < n; ++j) {
        double y = p[j];
        double hi, lo;
        if (tcg_absd(x) < tcg_absd(y)) {
            const double t = x;
            x = y;
            y = t;
        }
        hi = x + y;
        lo = y - (hi - x);
        if (lo != 0.0) {
            p[k] = lo;
            ++k;
        }
        x = hi;
    }
    if (x != 0.0) {
        p[k] = x;
        ++k;
    }
    return k;
}

/* The exact sum of the partials rounded to nearest, ties to even (the rounding CPython's
 * math.fsum documents): add from the top while exact, then settle a half-way case with the
 * sign of the next partial. */
static inline double tcg_partials_round(const double *p, int32_t n)
{
    double hi, lo = 0.0;
    if (n == 0) {
        return 0.0;
    }
    n -= 1;
    hi = p[n];
    while (n > 0) {
        const double x = hi;
        const double y = p[n - 1];
        n -= 1;
        hi = x + y;
        lo = y - (hi - x);
        if (lo != 0.0) {
            break;
        }
    }
    if (n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0))) {
        const double y = lo * 2.0;
        const double x = hi + y;
        if (y == x - hi) {
            hi = x;
        }
    }
    return hi;
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

/* The exact sum of b and the pieces hi_i + lo_i of every product w[i * stride] * z[i]
 * (tcg_two_prod), rounded to nearest. */
static inline double tcg_dot_partials(const double *w, int32_t stride, const double *z,
                                      int32_t n, double b, double *part)
{
    int32_t i, np = 0;
    for (i = 0; i < n; ++i) {
        double hi, lo;
        tcg_two_prod(w[i * stride], z[i], &hi, &lo);
        if (hi != 0.0) {
            np = tcg_partials_add(part, np, hi);
        }
        if (lo != 0.0) {
            np = tcg_partials_add(part, np, lo);
        }
    }
    if (b != 0.0) {
        np = tcg_partials_add(part, np, b);
    }
    return tcg_partials_round(part, np);
}

/* b + sum_i w[i * stride] * z[i], correctly rounded to double, in integer arithmetic
 * (tcg_idot.h: exact for all finite arguments, no soft-double routine on an FPU-less target).
 * part: unused (the earlier Dot2 + partial-sums form needed 2 * n + 1 doubles of scratch). */
static inline double tcg_dot_exact(const double *w, int32_t stride, const double *z, int32_t n,
                                   double b, double *part)
{
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
