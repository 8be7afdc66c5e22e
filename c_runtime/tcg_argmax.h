/* tcg_argmax.h - index of the first maximum (numpy's argmax rule, which sklearn's predict uses),
 * one function per element type. Part of tinycodegen; static inline, so any number of models can
 * include it in one program. Inputs are never NaN where these are called. */
#ifndef TCG_ARGMAX_H_INCLUDED
#define TCG_ARGMAX_H_INCLUDED

#include <stdint.h>

#define TCG_DEFINE_ARGMAX(NAME, TYPE)                                                          \
    static inline int32_t NAME(const TYPE *s, int32_t n)                                       \
    {                                                                                          \
        int32_t i, best = 0;                                                                   \
        for (i = 1; i < n; ++i) {                                                              \
            if (s[i] > s[best]) {                                                              \
                best = i;                                                                      \
            }                                                                                  \
        }                                                                                      \
        return best;                                                                           \
    }

TCG_DEFINE_ARGMAX(tcg_argmax_u32, uint32_t)
TCG_DEFINE_ARGMAX(tcg_argmax_i32, int32_t)
TCG_DEFINE_ARGMAX(tcg_argmax_i64, int64_t)
TCG_DEFINE_ARGMAX(tcg_argmax_f32, float)
TCG_DEFINE_ARGMAX(tcg_argmax_f64, double)

#undef TCG_DEFINE_ARGMAX

#endif /* TCG_ARGMAX_H_INCLUDED */
