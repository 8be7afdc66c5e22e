/* tcg_qnet.h - integer helpers of quantized linear models and MLPs. Part of tinycodegen; all
 * functions are static inline, so any number of models can include this header in one program.
 *
 * Each function is defined bit for bit by tinycodegen/ir/qnet_ops.py. Integer arithmetic only:
 * floats are read and written as bit patterns, so no soft-float routine is ever linked. */
#ifndef TCG_QNET_H_INCLUDED
#define TCG_QNET_H_INCLUDED

#include <stdint.h>

#include "tcg_argmax.h"
#include "tcg_bits.h"
#include "tcg_rom.h"

/* 1 if the float with these bits is NaN or +-inf (all-ones exponent). */
static inline uint32_t tcg_q_nonfinite(uint32_t bits)
{
    return (uint32_t)((bits & 0x7f800000u) == 0x7f800000u);
}

/* Input code of x (its bits) on the grid floor(x * A + C) clamped to [0, qmax], integers only:
 * A = (-1)^(am >> 31) * (am & 0x7fffffff) * 2^-ea, C = cf * 2^-16 (ir/qnet_ops.py
 * input_codes). */
static inline uint32_t tcg_q_code(uint32_t bits, uint32_t am, int32_t ea, int64_t cf,
                                  uint32_t qmax)
{
    const uint32_t ex = (bits >> 23) & 0xffu;
    const uint64_t mant = (uint64_t)((bits & 0x7fffffu) | (ex != 0u ? 0x800000u : 0u));
    const int32_t sh = (int32_t)(ex != 0u ? ex : 1u) - 150 - ea + 16;
    const uint64_t p = mant * (uint64_t)(am & 0x7fffffffu);
    uint64_t v;
    int64_t t;
    if (p == 0u) {
        v = 0u;
    } else if (sh >= 0) {
        v = (sh > 62 || p >= ((uint64_t)1 << (62 - sh))) ? ((uint64_t)1 << 62) : (p << sh);
    } else {
        v = p >> (sh < -62 ? 62 : -sh);
    }
    t = (((bits >> 31) ^ (am >> 31)) != 0u) ? cf - (int64_t)v : cf + (int64_t)v;
    if (t >= ((int64_t)qmax << 16)) {
        return qmax;
    }
    if (t < ((int64_t)1 << 16)) {
        return 0u;
    }
    return (uint32_t)(t >> 16);
}

/* The same grid with 32-bit arithmetic only (int8 models; ir/qnet_ops.py input_codes32 is
 * the definition and the proof): ak = am (16 bits, bits 0..15) | k = ea + 126 (bits 16..24) |
 * sign of A (bit 31). n = k - ex <= 5 is saturated (the exact value is >= 2^25 there: the
 * clamped code is the same) or NaN / +-inf, which returns qmax + 1 (the caller rejects the row);
 * else the significand rounded to 16 bits times am (< 2^32) shifted right by n, |t| < 2^31.
 * No 64-bit operation: nothing from libgcc on a Cortex-M0+. */
static inline uint32_t tcg_q_code32(uint32_t bits, uint32_t ak, int32_t cf, uint32_t qmax)
{
    const uint32_t p = ((((bits & 0x7fffffu) | 0x800000u) + 128u) >> 8) * (ak & 0xffffu);
    const int32_t n = (int32_t)((ak >> 16) & 0x1ffu) - (int32_t)((bits >> 23) & 0xffu);
    int32_t t;
    uint32_t c;
    if (n <= 5) {
        if ((bits << 1) >= 0xff000000u) {
            return qmax + 1u;
        }
        return ((bits ^ ak) >> 31) != 0u ? 0u : qmax;
    }
    t = n >= 32 ? 0 : (int32_t)(p >> n);
    t = ((bits ^ ak) >> 31) != 0u ? cf - t : cf + t;
    if (t < 0) {
        return 0u;
    }
    c = (uint32_t)t >> 16;
    return c < qmax ? c : qmax;
}

/* A categorical input (its bits): 1 and the code when the value is an integer in [-1, n - 1]
 * (-0.0 is 0), else 0 (NaN, +-inf, a fraction, out of range). Integers only. */
static inline int tcg_q_category(uint32_t bits, int32_t n, int32_t *code)
{
    uint32_t ex, m, s;
    if ((bits & 0x7fffffffu) == 0u) {
        *code = 0;
        return n > 0;
    }
    if (bits == 0xbf800000u) {
        *code = -1;
        return 1;
    }
    ex = bits >> 23; /* sign bit set: some other negative value, ex > 255 */
    if (ex < 127u || ex > 150u) {
        return 0;
    }
    m = (bits & 0x7fffffu) | 0x800000u;
    s = 150u - ex;
    if ((m & (((uint32_t)1 << s) - 1u)) != 0u || (int32_t)(m >> s) > n - 1) {
        return 0;
    }
    *code = (int32_t)(m >> s);
    return 1;
}

/* The float nearest p / q (ties to even), for 0 <= p <= q, 0 < q < 2^24: what IEEE division
 * of the two exact floats gives, by integer long division (no float arithmetic). */
static inline float tcg_q_ratio(uint32_t p, uint32_t q)
{
    uint32_t r = p, m = 0u, i;
    int32_t e = 0;
    if (p == 0u) {
        return 0.0f;
    }
    while (r < q) {
        r <<= 1;
        --e;
    }
    for (i = 0u; i < 24u; ++i) {
        m <<= 1;
        if (r >= q) {
            r -= q;
            m |= 1u;
        }
        r <<= 1;
    }
    if (r > q || (r == q && (m & 1u) != 0u)) {
        ++m;
    }
    if (m == 0x1000000u) {
        m >>= 1;
        ++e;
    }
    return tcg_q_from_bits(((uint32_t)(e + 127) << 23) | (m & 0x7fffffu));
}

/* floor(v / 2^s) for 0 < s < 63 (no implementation-defined shift of a negative value). */
static inline int64_t tcg_q_floor_shift(int64_t v, int32_t s)
{
    return v >= 0 ? (v >> s) : ~((~v) >> s);
}

/* Fixed-point requantization: floor((acc * mult + 2^(shift - 1)) / 2^shift). */
static inline int64_t tcg_q_requant(int64_t acc, int64_t mult, int32_t shift)
{
    return tcg_q_floor_shift(acc * mult + ((int64_t)1 << (shift - 1)), shift);
}

/* int8 hidden layers, 32-bit only (ir/qnet_ops.py requant32 has the proof): a = clamp(floor(acc /
 * 2^pre), -(2^20 - 1), 2^20 - 1), then floor((a * mult + 2^(shift - 1)) / 2^shift) exactly, the
 * product in two halves a = 1024 h + l: mult < 2^20 and 11 <= shift <= 30 keep every term below
 * 2^30 in magnitude. */
static inline int32_t tcg_q_requant32(int32_t acc, int32_t mult, int32_t shift, int32_t pre)
{
    int32_t a = acc >= 0 ? (acc >> pre) : ~((~acc) >> pre);
    int32_t h, l;
    a = a < -1048575 ? -1048575 : (a > 1048575 ? 1048575 : a);
    h = a >= 0 ? (a >> 10) : ~((~a) >> 10);
    l = a - h * 1024;
    h = h * mult + ((int32_t)1 << (shift - 11)) + ((l * mult) >> 10); /* 16-bit int: AVR */
    return h >= 0 ? (h >> (shift - 10)) : ~((~h) >> (shift - 10));
}

static inline int32_t tcg_q_clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static inline int32_t tcg_q_clamp(int64_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : (int32_t)v);
}

/* Piecewise-linear table (TCG_ROM) of n + 1 non-decreasing entries at x in [0, 256 n],
 * clamped; one function per entry type. */
#define TCG_DEFINE_Q_INTERP(NAME, TYPE, READ)                                                 \
    static inline int32_t NAME(const TYPE *t, int32_t n, int64_t x)                           \
    {                                                                                         \
        int32_t seg, frac, t0;                                                                \
        if (x <= 0) {                                                                         \
            return (int32_t)READ(&t[0]);                                                      \
        }                                                                                     \
        if (x >= (int64_t)n * 256) {                                                          \
            return (int32_t)READ(&t[n]);                                                      \
        }                                                                                     \
        seg = (int32_t)(x >> 8);                                                              \
        frac = (int32_t)(x & 255);                                                            \
        t0 = (int32_t)READ(&t[seg]);                                                          \
        return t0 + ((((int32_t)READ(&t[seg + 1]) - t0) * frac + 128) >> 8);                 \
    }

TCG_DEFINE_Q_INTERP(tcg_q_interp_u16, uint16_t, TCG_ROM_U16)
TCG_DEFINE_Q_INTERP(tcg_q_interp_s16, int16_t, TCG_ROM_I16)

#undef TCG_DEFINE_Q_INTERP

/* 16-bit sigmoid of a logit r (units of 1/2048) from the half table t (129 entries, TCG_ROM). */
static inline int32_t tcg_q_sigmoid(const uint16_t *t, int64_t r)
{
    const int32_t y = tcg_q_clamp(r, -32768, 32768);
    return y >= 0 ? tcg_q_interp_u16(t, 128, y) : 65535 - tcg_q_interp_u16(t, 128, -y);
}

#endif /* TCG_QNET_H_INCLUDED */
