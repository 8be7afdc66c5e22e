/* tcg_f64.h - IEEE-754 binary64 where `double` may be narrower. Part of tinycodegen; static
 * inline only.
 *
 * Generated code that must replay sklearn's float64 arithmetic (the forests' exact fallback)
 * computes on tcg_f64 through the functions below. Where the compiler's double is binary64,
 * tcg_f64 is double and they are the plain operators. Where it is narrower (avr-gcc: double
 * is 32 bits, DBL_MANT_DIG 24), tcg_f64 is the uint64_t bit pattern and the tcg_sf64_*
 * routines compute the same results in integer arithmetic: add, divide and the conversions,
 * correctly rounded to nearest, ties to even, subnormals included (as IEEE-754 and NumPy do).
 * Define TCG_F64_SOFT to 1 to use them on any compiler (the tests do).
 */
#ifndef TCG_F64_H_INCLUDED
#define TCG_F64_H_INCLUDED

#include <stdint.h>

#include "tcg_rom.h"

#include <float.h>

#ifndef TCG_F64_SOFT
#if DBL_MANT_DIG < 53
#define TCG_F64_SOFT 1
#else
#define TCG_F64_SOFT 0
#endif
#endif

#define TCG_SF64_SIGN UINT64_C(0x8000000000000000)
#define TCG_SF64_INF UINT64_C(0x7FF0000000000000)
#define TCG_SF64_QNAN UINT64_C(0x7FF8000000000000)
#define TCG_SF64_FRAC UINT64_C(0x000FFFFFFFFFFFFF)
#define TCG_SF64_HIDDEN UINT64_C(0x0010000000000000)

static inline int32_t tcg_sf64_exp(uint64_t a) { return (int32_t)((a >> 52) & 0x7FFu); }

static inline int tcg_sf64_isnan(uint64_t a) { return (a & ~TCG_SF64_SIGN) > TCG_SF64_INF; }

/* m >> n with every shifted-out bit OR-ed into bit 0 (the sticky bit). */
static inline uint64_t tcg_sf64_jam(uint64_t m, int32_t n)
{
    if (n <= 0) {
        return m;
    }
    if (n >= 63) {
        return m != 0u ? 1u : 0u;
    }
    return (m >> n) | ((m & ((UINT64_C(1) << n) - 1u)) != 0u ? 1u : 0u);
}

/* sign | the binary64 nearest to m * 2^(be - 1023 - 62) (ties to even); m < 2^63 holds its
 * leading one at bit 62, or less when be == 1 (subnormal or zero); be <= 0 is scaled down. */
static inline uint64_t tcg_sf64_pack(uint64_t sign, int32_t be, uint64_t m)
{
    uint32_t r;
    uint64_t bits;
    if (be >= 2047) {
        return sign | TCG_SF64_INF;
    }
    if (be <= 0) {
        m = tcg_sf64_jam(m, 1 - be);
        be = 1;
    }
    r = (uint32_t)(m & 0x3FFu);
    m >>= 10;
    if (r > 0x200u || (r == 0x200u && (m & 1u) != 0u)) {
        ++m;
    }
    /* the hidden bit (2^52) adds one to the exponent field; a carry to 2^53 adds another */
    bits = ((uint64_t)(uint32_t)(be - 1) << 52) + m;
    return sign | (bits >= TCG_SF64_INF ? TCG_SF64_INF : bits);
}

/* Significand with the hidden bit at bit 62 and biased exponent (1 for subnormals). */
static inline uint64_t tcg_sf64_unpack(uint64_t a, int32_t *be)
{
    const int32_t e = tcg_sf64_exp(a);
    const uint64_t m = a & TCG_SF64_FRAC;
    *be = e == 0 ? 1 : e;
    return (e == 0 ? m : (m | TCG_SF64_HIDDEN)) << 10;
}

static inline uint64_t tcg_sf64_add(uint64_t a, uint64_t b)
{
    int32_t ea, eb;
    uint64_t ma, mb, sign;
    if (tcg_sf64_isnan(a) || tcg_sf64_isnan(b)) {
        return TCG_SF64_QNAN;
    }
    if ((a & ~TCG_SF64_SIGN) == TCG_SF64_INF) {
        return ((b & ~TCG_SF64_SIGN) == TCG_SF64_INF && a != b) ? TCG_SF64_QNAN : a;
    }
    if ((b & ~TCG_SF64_SIGN) == TCG_SF64_INF) {
        return b;
    }
    if ((a & ~TCG_SF64_SIGN) < (b & ~TCG_SF64_SIGN)) { /* |a| >= |b| from here */
        const uint64_t t = a;
        a = b;
        b = t;
    }
    sign = a & TCG_SF64_SIGN;
    ma = tcg_sf64_unpack(a, &ea);
    mb = tcg_sf64_unpack(b, &eb);
    mb = tcg_sf64_jam(mb, ea - eb);
    if (((a ^ b) & TCG_SF64_SIGN) == 0u) {
        ma += mb;
        if (ma >= TCG_SF64_SIGN) {
            ma = tcg_sf64_jam(ma, 1);
            ++ea;
        }
        return tcg_sf64_pack(sign, ea, ma);
    }
    ma -= mb;
    if (ma == 0u) {
        return 0u; /* x - x is +0 when rounding to nearest */
    }
    while (ma < (UINT64_C(1) << 62) && ea > 1) {
        ma <<= 1;
        --ea;
    }
    return tcg_sf64_pack(sign, ea, ma);
}

/* Significand with the hidden bit at bit 52 and an unbiased-plus-1023 exponent that may go
 * below 1 (subnormals normalised); a must be finite and nonzero. */
static inline uint64_t tcg_sf64_norm(uint64_t a, int32_t *be)
{
    uint64_t m = tcg_sf64_unpack(a, be) >> 10;
    while (m < TCG_SF64_HIDDEN) {
        m <<= 1;
        --*be;
    }
    return m;
}

static inline uint64_t tcg_sf64_div(uint64_t a, uint64_t b)
{
    const uint64_t sign = (a ^ b) & TCG_SF64_SIGN;
    const uint64_t ua = a & ~TCG_SF64_SIGN, ub = b & ~TCG_SF64_SIGN;
    int32_t ea, eb, i;
    uint64_t ma, mb, q = 0u;
    if (tcg_sf64_isnan(a) || tcg_sf64_isnan(b) || (ua == 0u && ub == 0u) ||
        (ua == TCG_SF64_INF && ub == TCG_SF64_INF)) {
        return TCG_SF64_QNAN;
    }
    if (ua == TCG_SF64_INF || ub == 0u) {
        return sign | TCG_SF64_INF;
    }
    if (ua == 0u || ub == TCG_SF64_INF) {
        return sign;
    }
    ma = tcg_sf64_norm(a, &ea);
    mb = tcg_sf64_norm(b, &eb);
    ea = ea - eb + 1023;
    if (ma < mb) {
        ma <<= 1;
        --ea;
    }
    for (i = 0; i < 63; ++i) { /* quotient bits 62 .. 0, in [2^62, 2^63) */
        q <<= 1;
        if (ma >= mb) {
            ma -= mb;
            q |= 1u;
        }
        ma <<= 1;
    }
    return tcg_sf64_pack(sign, ea, q | (ma != 0u ? 1u : 0u));
}

static inline uint64_t tcg_sf64_from_u32(uint32_t v)
{
    int32_t top = 31;
    if (v == 0u) {
        return 0u;
    }
    while (((v >> top) & 1u) == 0u) {
        --top;
    }
    return tcg_sf64_pack(0u, 1023 + top, (uint64_t)v << (62 - top));
}

/* The float nearest to a (ties to even), as its bit pattern. */
static inline uint32_t tcg_sf64_to_f32_bits(uint64_t a)
{
    const uint32_t sign = (uint32_t)(a >> 32) & 0x80000000u;
    const int32_t e = tcg_sf64_exp(a);
    int32_t fe, shift;
    uint64_t m, r, half;
    uint32_t bits;
    if (e == 2047) {
        return sign | ((a & TCG_SF64_FRAC) != 0u ? 0x7FC00000u : 0x7F800000u);
    }
    if (e == 0) {
        return sign; /* a binary64 subnormal is far below half the smallest float */
    }
    m = (a & TCG_SF64_FRAC) | TCG_SF64_HIDDEN;
    fe = e - 1023 + 127;
    if (fe >= 255) {
        return sign | 0x7F800000u;
    }
    shift = fe >= 1 ? 29 : 29 + 1 - fe;
    if (shift > 60) {
        return sign;
    }
    r = m & ((UINT64_C(1) << shift) - 1u);
    half = UINT64_C(1) << (shift - 1);
    m >>= shift;
    if (r > half || (r == half && (m & 1u) != 0u)) {
        ++m;
    }
    bits = (fe >= 1 ? ((uint32_t)(fe - 1) << 23) : 0u) + (uint32_t)m;
    return sign | (bits >= 0x7F800000u ? 0x7F800000u : bits);
}

static inline float tcg_sf64_to_f32(uint64_t a)
{
    union {
        uint32_t u;
        float f;
    } v;
    v.u = tcg_sf64_to_f32_bits(a);
    return v.f;
}

/* a < b as IEEE-754 orders them (false when either is NaN; -0 == +0). */
static inline int tcg_sf64_lt(uint64_t a, uint64_t b)
{
    if (tcg_sf64_isnan(a) || tcg_sf64_isnan(b) || ((a | b) & ~TCG_SF64_SIGN) == 0u) {
        return 0;
    }
    if (((a ^ b) & TCG_SF64_SIGN) != 0u) {
        return (a & TCG_SF64_SIGN) != 0u;
    }
    return (a & TCG_SF64_SIGN) != 0u ? a > b : a < b;
}

/* ---- tcg_f64: the type and operations generated code uses ---------------------------- */
#if TCG_F64_SOFT
typedef uint64_t tcg_f64;
#define TCG_F64_C(bits, literal) UINT64_C(bits)
#define TCG_F64_ZERO UINT64_C(0)
static inline tcg_f64 tcg_f64_add(tcg_f64 a, tcg_f64 b) { return tcg_sf64_add(a, b); }
static inline tcg_f64 tcg_f64_div(tcg_f64 a, tcg_f64 b) { return tcg_sf64_div(a, b); }
static inline tcg_f64 tcg_f64_from_u32(uint32_t v) { return tcg_sf64_from_u32(v); }
static inline float tcg_f64_to_f32(tcg_f64 a) { return tcg_sf64_to_f32(a); }
static inline uint64_t tcg_f64_bits(tcg_f64 a) { return a; }
#else
typedef double tcg_f64;
#define TCG_F64_C(bits, literal) literal
#define TCG_F64_ZERO 0.0
static inline tcg_f64 tcg_f64_add(tcg_f64 a, tcg_f64 b) { return a + b; }
static inline tcg_f64 tcg_f64_div(tcg_f64 a, tcg_f64 b) { return a / b; }
static inline tcg_f64 tcg_f64_from_u32(uint32_t v) { return (double)v; }
static inline float tcg_f64_to_f32(tcg_f64 a) { return (float)a; }
static inline uint64_t tcg_f64_bits(tcg_f64 a)
{
    union {
        double d;
        uint64_t u;
    } v;
    v.d = a;
    return v.u;
}
#endif

#if TCG_F64_SOFT && DBL_MANT_DIG >= 53
/* The double whose binary64 bits are a (a soft build where double is binary64: the size
 * layout's generated code, which still defines NAME_proba64). */
static inline double tcg_sf64_to_double(uint64_t a)
{
    union {
        uint64_t u;
        double d;
    } v;
    v.u = a;
    return v.d;
}
#endif

/* p[0] of a `static const TCG_ROM tcg_f64` table. */
static inline tcg_f64 tcg_f64_rom(const tcg_f64 *p)
{
#if defined(__AVR__)
    union {
        uint32_t w[2];
        tcg_f64 v;
    } u;
    u.w[0] = TCG_ROM_U32((const uint32_t *)(const void *)p);
    u.w[1] = TCG_ROM_U32((const uint32_t *)(const void *)p + 1);
    return u.v;
#else
    return *p;
#endif
}

/* First index of the largest of n >= 1 non-negative, non-NaN values (they order like their
 * bit patterns). */
static inline int32_t tcg_f64_argmax_nonneg(const tcg_f64 *s, int32_t n)
{
    int32_t i, best = 0;
    uint64_t top = tcg_f64_bits(s[0]);
    for (i = 1; i < n; ++i) {
        const uint64_t v = tcg_f64_bits(s[i]);
        if (v > top) {
            top = v;
            best = i;
        }
    }
    return best;
}

#endif /* TCG_F64_H_INCLUDED */
