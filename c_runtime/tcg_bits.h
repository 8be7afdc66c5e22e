/* tcg_bits.h - the bits of a float, once: reading, writing and ordering them as integers. Part
 * of tinycodegen; all functions are static inline, so any number of models can include this
 * header in one program. The NumPy twins are in tinycodegen/core/bits.py. */
#ifndef TCG_BITS_H_INCLUDED
#define TCG_BITS_H_INCLUDED

#include <stdint.h>

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

/* Bits of a float read as int32_t (exact-width types are two's complement: defined in C99):
 * for floats >= +0 these order like the floats, and every negative float (-0.0 included) has
 * negative bits. */
static inline int32_t tcg_i32(float f)
{
    union {
        float f;
        int32_t i;
    } v;
    v.f = f;
    return v.i;
}

/* The float whose bits are b. */
static inline float tcg_f32(int32_t b)
{
    union {
        float f;
        int32_t i;
    } v;
    v.i = b;
    return v.f;
}

/* The float whose bits are u. */
static inline float tcg_f32u(uint32_t u)
{
    union {
        uint32_t u;
        float f;
    } v;
    v.u = u;
    return v.f;
}

/* Ordered key of the non-NaN float with bits b: x <= y iff key(x) <= key(y) (-0 sorts just
 * below +0). Negative floats get their 31 low bits flipped; two instructions on Thumb-2. */
static inline int32_t tcg_key(int32_t b)
{
    return b ^ (int32_t)((0u - ((uint32_t)b >> 31)) >> 1);
}

/* The same order on unsigned keys (branch-free): a < b as floats exactly when key(a) < key(b),
 * except that -0.0 gets 0x7fffffff, just below +0.0's 0x80000000. Against threshold keys made
 * from floats other than -0.0 (tinycodegen stores -0.0 as +0.0), x <= t and x < t are
 * therefore decided exactly as IEEE compares them. */
static inline uint32_t tcg_f32_key(uint32_t u)
{
    return u ^ ((0u - (u >> 31)) | 0x80000000u);
}

/* The names the quantized helpers have always used (generated C calls them). */
static inline uint32_t tcg_f32_bits(float v) { return tcg_bits(v); }
static inline int32_t tcg_f32_ibits(float v) { return tcg_i32(v); }
static inline uint32_t tcg_q_bits(float f) { return tcg_bits(f); }
static inline float tcg_q_from_bits(uint32_t u) { return tcg_f32u(u); }

#endif
