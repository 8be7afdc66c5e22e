/* tcg_idot.h - the correctly rounded dot product in integer arithmetic, for soft-float targets.
 * Part of tinycodegen; all functions are static inline, so any number of models can include
 * this header in one program.
 *
 * Every finite double is m 2^e with m < 2^53 an integer and e >= -1074, so a product of two is
 * m_a m_b 2^(e_a + e_b) with e_a + e_b >= -2148: an integer multiple of 2^-2148 below 2^2048.
 * The positive and the negative terms are summed exactly in two unsigned fixed-point
 * accumulators of TCG_IDOT_WORDS 32-bit words (bit 0 is 2^-2148; room for 2^31 terms of any
 * size), subtracted once and rounded once to nearest, ties to even: the same double as
 * tcg_eft.h's tcg_dot_exact (the correctly rounded sum is unique), with no double arithmetic,
 * so a model whose exact path needs it links no soft-double add or multiply for it.
 * Cost: 2 x 536 bytes of stack, cleared per call; a few integer multiplies per term. */
#ifndef TCG_IDOT_H_INCLUDED
#define TCG_IDOT_H_INCLUDED

#include <stdint.h>

#define TCG_IDOT_WORDS 134
#define TCG_IDOT_MIN 1074 /* bit of 2^-1074, the smallest double */

/* Bits of a double (union punning is defined behaviour in C99). */
static inline uint64_t tcg_idot_bits(double d)
{
    union {
        double d;
        uint64_t u;
    } v;
    v.d = d;
    return v.u;
}

/* acc += (ma * mb) << pos, ma, mb < 2^53, pos + 106 < 32 * (TCG_IDOT_WORDS - 1). */
static inline void tcg_idot_add(uint32_t *acc, uint64_t ma, uint64_t mb, int32_t pos)
{
    const uint32_t a0 = (uint32_t)ma, a1 = (uint32_t)(ma >> 32);
    const uint32_t b0 = (uint32_t)mb, b1 = (uint32_t)(mb >> 32);
    const uint64_t mid = (uint64_t)a0 * b1 + (uint64_t)a1 * b0; /* < 2^54 */
    const uint32_t r = (uint32_t)pos & 31u;
    uint32_t p[5];
    uint64_t t, c;
    int32_t k, q = pos >> 5;
    t = (uint64_t)a0 * b0;
    p[0] = (uint32_t)t;
    t = (t >> 32) + (mid & 0xffffffffu);
    p[1] = (uint32_t)t;
    t = (t >> 32) + (mid >> 32) + (uint64_t)a1 * b1;
    p[2] = (uint32_t)t;
    p[3] = (uint32_t)(t >> 32);
    p[4] = 0u;
    if (r != 0u) {
        for (k = 4; k > 0; --k) {
            p[k] = (p[k] << r) | (p[k - 1] >> (32u - r));
        }
        p[0] <<= r;
    }
    c = 0u;
    for (k = 0; k < 5; ++k) {
        t = (uint64_t)acc[q + k] + p[k] + c;
        acc[q + k] = (uint32_t)t;
        c = t >> 32;
    }
    for (k = q + 5; c != 0u && k < TCG_IDOT_WORDS; ++k) {
        acc[k] += 1u;
        c = acc[k] == 0u ? 1u : 0u;
    }
}

/* Adds the exact product a * b to acc[0] (positive) or acc[1] (negative); returns 1 (adding
 * nothing) when a or b is not finite. */
static inline int tcg_idot_term(uint32_t acc[2][TCG_IDOT_WORDS], double a, double b)
{
    const uint64_t ua = tcg_idot_bits(a), ub = tcg_idot_bits(b);
    const uint32_t ea = (uint32_t)(ua >> 52) & 0x7ffu, eb = (uint32_t)(ub >> 52) & 0x7ffu;
    const uint64_t frac = 0xfffffffffffffu;
    uint64_t ma = ua & frac, mb = ub & frac;
    if (ea == 0x7ffu || eb == 0x7ffu) {
        return 1;
    }
    if ((ma == 0u && ea == 0u) || (mb == 0u && eb == 0u)) {
        return 0;
    }
    ma |= ea != 0u ? (frac + 1u) : 0u;
    mb |= eb != 0u ? (frac + 1u) : 0u;
    /* bit of the product's unit: (e_a + e_b) + 2148, e = max(field, 1) - 1075 */
    tcg_idot_add(acc[(ua ^ ub) >> 63], ma, mb,
                 (int32_t)(ea != 0u ? ea : 1u) + (int32_t)(eb != 0u ? eb : 1u) - 2);
    return 0;
}

/* Bit i of acc. */
static inline uint32_t tcg_idot_bit(const uint32_t *acc, int32_t i)
{
    return (acc[i >> 5] >> ((uint32_t)i & 31u)) & 1u;
}

/* The exact acc[0] - acc[1] rounded to the nearest double, ties to even (+0.0 when zero). */
static inline double tcg_idot_round(uint32_t acc[2][TCG_IDOT_WORDS])
{
    union {
        uint64_t u;
        double d;
    } v;
    uint32_t *big = acc[0];
    const uint32_t *small = acc[1];
    uint64_t m = 0u, sign = 0u, brw = 0u;
    int32_t k, top, lsb, i;
    uint32_t sticky = 0u;
    for (k = TCG_IDOT_WORDS - 1; k >= 0 && acc[0][k] == acc[1][k]; --k) {
    }
    if (k < 0) {
        return 0.0;
    }
    if (acc[0][k] < acc[1][k]) {
        big = acc[1];
        small = acc[0];
        sign = 1u;
    }
    for (i = 0; i < TCG_IDOT_WORDS; ++i) { /* big -= small (big > small) */
        const uint64_t t = (uint64_t)big[i] - small[i] - brw;
        big[i] = (uint32_t)t;
        brw = (t >> 32) != 0u ? 1u : 0u;
    }
    for (k = TCG_IDOT_WORDS - 1; big[k] == 0u; --k) {
    }
    for (top = 31; ((big[k] >> (uint32_t)top) & 1u) == 0u; --top) {
    }
    top += 32 * k;
    lsb = top - 52 < TCG_IDOT_MIN ? TCG_IDOT_MIN : top - 52;
    for (i = top; i >= lsb; --i) {
        m = (m << 1) | tcg_idot_bit(big, i);
    }
    for (k = 0; k < ((lsb - 1) >> 5); ++k) {
        sticky |= big[k];
    }
    sticky |= big[k] & ((1u << ((uint32_t)(lsb - 1) & 31u)) - 1u);
    if (tcg_idot_bit(big, lsb - 1) != 0u && (sticky != 0u || (m & 1u) != 0u)) {
        m += 1u;
        if (m == ((uint64_t)1u << 53)) {
            m >>= 1;
            lsb += 1;
        }
    }
    if (m >> 52 == 0u) { /* subnormal (lsb is 2^-1074) */
        v.u = m;
    } else if (lsb - TCG_IDOT_MIN + 1 >= 2047) {
        v.u = (uint64_t)0x7ffu << 52;
    } else {
        v.u = ((uint64_t)(uint32_t)(lsb - TCG_IDOT_MIN + 1) << 52) | (m & 0xfffffffffffffu);
    }
    v.u |= sign << 63;
    return v.d;
}

/* b + sum_i w[i * stride] * z[i], correctly rounded to double (any non-finite argument: the
 * plain double sum, inf or NaN as IEEE gives it). */
static inline double tcg_idot(const double *w, int32_t stride, const double *z, int32_t n,
                              double b)
{
    uint32_t acc[2][TCG_IDOT_WORDS];
    int32_t i, k;
    int bad;
    for (k = 0; k < TCG_IDOT_WORDS; ++k) {
        acc[0][k] = 0u;
        acc[1][k] = 0u;
    }
    bad = tcg_idot_term(acc, b, 1.0);
    for (i = 0; i < n; ++i) {
        bad |= tcg_idot_term(acc, w[i * stride], z[i]);
    }
    if (bad) {
        double plain = b;
        for (i = 0; i < n; ++i) {
            plain = plain + w[i * stride] * z[i];
        }
        return plain;
    }
    return tcg_idot_round(acc);
}

#endif /* TCG_IDOT_H_INCLUDED */
