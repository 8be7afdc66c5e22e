/* tcg_detect.h - shared pieces of the outlier detectors' C. Part of tinycodegen; all functions
 * are static inline, so any number of models can include this header in one program. */
#ifndef TCG_DETECT_H_INCLUDED
#define TCG_DETECT_H_INCLUDED

#include <stdint.h>

/* A quiet NaN: what decision_function and score_samples return for rejected input. */
static inline float tcg_nanf(void)
{
    union {
        uint32_t u;
        float f;
    } v;
    v.u = 0x7fc00000u;
    return v.f;
}

#endif /* TCG_DETECT_H_INCLUDED */
