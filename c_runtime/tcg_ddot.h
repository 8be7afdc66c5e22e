/* tcg_ddot.h - the BLAS ddot summation orders scikit-learn's libsvm can meet, replayed
 * operation for operation (the C twin of tinycodegen/ir/ddot.py; proofs in ir/svm_blas.md).
 * Part of tinycodegen; static inline only, so any number of models can include it.
 *
 * libsvm computes every kernel value with SciPy's BLAS ddot; OpenBLAS picks its kernel by CPU
 * and each kernel sums in its own order: a number of accumulator lanes (element i of the
 * vector part into lane i % lanes), multiply then add or a fused multiply-add, a fixed fold of
 * the lanes, then a tail loop. The fused multiply-add is correctly rounded everywhere
 * (emulated by tcg_fma where the C library's fma is not known to be: newlib's computes
 * x * y + z). Build with -ffp-contract=off: a contraction the source does not spell changes
 * the bits.
 */
#ifndef TCG_DDOT_H_INCLUDED
#define TCG_DDOT_H_INCLUDED

#include <math.h>
#include <stdint.h>

/* a * b + c rounded once (C99 fma), without relying on the C library: embedded libms often
 * compute fma as (a * b) + c, which is not what OpenBLAS's fused multiply-add returns. Exact
 * product by Veltkamp/Dekker splitting, exact sum, rounding to odd, final rounding (Boldo and
 * Melquiond, "Emulation of FMA and correctly rounded sums", 2008). Where the splitting could
 * overflow or a product underflow (magnitudes beyond 2^+-450, never met by float inputs and
 * ordinary support vectors) it defers to <math.h>'s fma. */
static inline double tcg_fma(double a, double b, double c)
{
    union {
        double d;
        uint64_t u;
    } v;
    double p, t, ah, al, bh, bl, e, th, tl, bb, err;
    const double fa = a < 0 ? -a : a, fb = b < 0 ? -b : b, fc = c < 0 ? -c : c;
    if (a == 0.0 || b == 0.0) {
        return a * b + c; /* an exact product: IEEE's signed-zero rules */
    }
    /* 2^450, 2^-450, 2^1000 (decimal: C++11 has no hex floating literals) */
    if (!(fa < 2.9073548971824276e+135 && fb < 2.9073548971824276e+135 &&
          fa > 3.4395525670743494e-136 && fb > 3.4395525670743494e-136 &&
          fc < 1.0715086071862673e+301)) {
        return fma(a, b, c);
    }
    p = a * b;
    t = 134217729.0 * a;
    ah = t - (t - a);
    al = a - ah;
    t = 134217729.0 * b;
    bh = t - (t - b);
    bl = b - bh;
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    th = c + p;
    bb = th - c;
    tl = (c - (th - bb)) + (p - bb);
    v.d = tl + e;
    bb = v.d - tl;
    err = (tl - (v.d - bb)) + (e - bb);
    if (err != 0.0 && (v.u & 1u) == 0u) { /* round to odd: one step towards the exact value */
        v.u = ((v.d > 0.0) == (err > 0.0)) ? v.u + 1u : v.u - 1u;
    }
    return th + v.d;
}

/* The fused multiply-add of the exact path: the FMA instruction where the compiler has one
 * (FP_FAST_FMA), glibc's fma (correctly rounded), else the emulation above. Define
 * TCG_SVM_SOFT_FMA to force the emulation. */
#if (defined(FP_FAST_FMA) || defined(__GLIBC__)) && !defined(TCG_SVM_SOFT_FMA)
#define TCG_SVM_FMA(a, b, c) fma(a, b, c)
#else
#define TCG_SVM_FMA(a, b, c) tcg_fma(a, b, c)
#endif

/* acc[(i - start) % nl] for every i of [start, stop) ((stop - start) a multiple of nl), in
 * index order: a fused multiply-add (fused != 0) or a rounded product then a sum. zero: the
 * lanes start at +0, so the first block is the products themselves (fma(x, y, +0) is the
 * rounded product unless that is 0, where the fma gives the zero's sign). */
static inline void tcg_ddot_lanes(const double *x, const double *y, int32_t start, int32_t stop,
                                  int32_t nl, int32_t fused, int32_t zero, double *acc)
{
    int32_t i, j;
    if (zero && start < stop) {
        for (j = 0; j < nl; ++j) {
            const double p = x[start + j] * y[start + j];
            acc[j] = (p != 0.0 || !fused) ? p + 0.0 : TCG_SVM_FMA(x[start + j], y[start + j], 0.0);
        }
        start += nl;
    }
    for (i = start; i < stop; i += nl) {
        for (j = 0; j < nl; ++j) {
            acc[j] = fused ? TCG_SVM_FMA(x[i + j], y[i + j], acc[j]) : acc[j] + x[i + j] * y[i + j];
        }
    }
}

static inline void tcg_ddot_zero(double *acc, int32_t nl)
{
    int32_t j;
    for (j = 0; j < nl; ++j) {
        acc[j] = 0.0;
    }
}

/* Four 2-lane registers (v0 v1 | v2 v3 | v4 v5 | v6 v7): r0 + r1 and r2 + r3, those two
 * added, then the two lanes (haddpd / faddp). */
static inline double tcg_ddot_fold8(const double *v)
{
    return ((v[0] + v[2]) + (v[4] + v[6])) + ((v[1] + v[3]) + (v[5] + v[7]));
}

/* Four 4-lane registers: each one's high half added to its low half, then tcg_ddot_fold8. */
static inline double tcg_ddot_fold16(const double *v)
{
    double h[8];
    int32_t k;
    for (k = 0; k < 4; ++k) {
        h[2 * k] = v[4 * k] + v[4 * k + 2];
        h[2 * k + 1] = v[4 * k + 1] + v[4 * k + 3];
    }
    return tcg_ddot_fold8(h);
}

/* The tail every kernel ends with: dot += y[i] * x[i] (fused or not) for i in [start, n). */
static inline double tcg_ddot_tail(const double *x, const double *y, int32_t start, int32_t n,
                                   int32_t fused, double dot)
{
    int32_t i;
    for (i = start; i < n; ++i) {
        dot = fused ? TCG_SVM_FMA(y[i], x[i], dot) : dot + y[i] * x[i];
    }
    return dot;
}

/* A plain sequential ddot (reference BLAS order; the fallback for an unknown BLAS). */
static inline double tcg_ddot_seq(const double *x, const double *y, int32_t n)
{
    return tcg_ddot_tail(x, y, 0, n, 0, 0.0);
}

/* OpenBLAS kernel/x86_64/ddot.c with its Nehalem (nl 8, fused 0), Sandybridge (16, 0) or
 * Haswell/Zen (16, 1) micro-kernel over n & -16, then the plain tail. */
static inline double tcg_ddot_x86(const double *x, const double *y, int32_t n, int32_t nl,
                                  int32_t fused)
{
    double acc[16];
    const int32_t n1 = n & ~15;
    double dot = 0.0;
    if (n1 > 0) {
        tcg_ddot_lanes(x, y, 0, n1, nl, fused, 1, acc);
        dot = nl == 8 ? tcg_ddot_fold8(acc) : tcg_ddot_fold16(acc);
    }
    return tcg_ddot_tail(x, y, n1, n, 0, dot);
}

static inline double tcg_ddot_hsw(const double *x, const double *y, int32_t n)
{
    return tcg_ddot_x86(x, y, n, 16, 1);
}

static inline double tcg_ddot_snb(const double *x, const double *y, int32_t n)
{
    return tcg_ddot_x86(x, y, n, 16, 0);
}

static inline double tcg_ddot_nhm(const double *x, const double *y, int32_t n)
{
    return tcg_ddot_x86(x, y, n, 8, 0);
}

/* ddot.c with the SkylakeX/Cooperlake/SapphireRapids micro-kernel: 4 x 8 fused lanes over
 * n & -32, each 8-lane register folded onto 4 lanes (low + high 256 bits), one more block of
 * 16 into those 4 x 4 lanes when n & 16, the four registers added left to right, high 128
 * bits onto low, the two lanes; then a fused tail (the C tail is compiled with FMA). */
static inline double tcg_ddot_skx(const double *x, const double *y, int32_t n)
{
    double z[32], a[16], s[4];
    const int32_t n1 = n & ~15, n32 = n & ~31;
    int32_t r, j;
    if (n1 == 0) {
        return tcg_ddot_tail(x, y, 0, n, 1, 0.0);
    }
    tcg_ddot_zero(a, 16);
    if (n32 > 0) {
        tcg_ddot_lanes(x, y, 0, n32, 32, 1, 1, z);
        for (r = 0; r < 4; ++r) {
            for (j = 0; j < 4; ++j) {
                a[4 * r + j] = z[8 * r + j] + z[8 * r + j + 4];
            }
        }
    }
    tcg_ddot_lanes(x, y, n32, n1, 16, 1, 0, a);
    for (j = 0; j < 4; ++j) {
        s[j] = ((a[j] + a[4 + j]) + a[8 + j]) + a[12 + j];
    }
    return tcg_ddot_tail(x, y, n1, n, 1, (s[0] + s[2]) + (s[1] + s[3]));
}

/* kernel/x86_64/dot_sse2.S (Prescott, reported as Katmai, and other SSE2 cores): 4 x 2 lanes,
 * products rounded then added; n & -16 elements into lane i % 8, then 8, 4, 2, 1 remaining
 * elements into lanes 0.. in turn, then tcg_ddot_fold8. When y is 8 bytes past a 16-byte
 * boundary (y_odd), its first product starts lane 0 and the rest follows from y + 1. */
static inline double tcg_ddot_sse2(const double *x, const double *y, int32_t n, int32_t y_odd)
{
    double acc[8];
    int32_t p = 0, m, e, w, j;
    tcg_ddot_zero(acc, 8);
    if (y_odd && n > 0) {
        acc[0] = x[0] * y[0];
        p = 1;
    }
    m = n - p;
    e = p + (m & ~15);
    tcg_ddot_lanes(x, y, p, e, 8, 0, 0, acc);
    for (w = 8; w > 0; w /= 2) {
        if (m & w) {
            for (j = 0; j < w; ++j) {
                acc[j] = acc[j] + x[e + j] * y[e + j];
            }
            e += w;
        }
    }
    return tcg_ddot_fold8(acc);
}

/* kernel/arm64/dot.S (ARMV8, Cortex-A53/57/72/73): 2 lanes over n & -4, products rounded then
 * added, the two lanes added (faddp), then a fused fmadd per remaining element. */
static inline double tcg_ddot_armv8(const double *x, const double *y, int32_t n)
{
    double acc[2];
    const int32_t n1 = n & ~3;
    double dot = 0.0;
    if (n1 > 0) {
        tcg_ddot_lanes(x, y, 0, n1, 2, 0, 1, acc);
        dot = acc[0] + acc[1];
    }
    return tcg_ddot_tail(x, y, n1, n, 1, dot);
}

/* kernel/arm64/dot_kernel_asimd.c (NeoverseN1, Vortex, ThunderX2): 8 registers x 2 fused
 * lanes over n & -32, folded as tcg_ddot_fold16, then a fused fmadd per remaining element. */
static inline double tcg_ddot_neon(const double *x, const double *y, int32_t n)
{
    double acc[16];
    const int32_t n1 = n & ~31;
    double dot = 0.0;
    if (n1 > 0) {
        tcg_ddot_lanes(x, y, 0, n1, 16, 1, 1, acc);
        dot = tcg_ddot_fold16(acc);
    }
    return tcg_ddot_tail(x, y, n1, n, 1, dot);
}

#endif /* TCG_DDOT_H_INCLUDED */
