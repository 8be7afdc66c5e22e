/* tcg_boost.h - output functions (links) of boosted tree ensembles, each as its library
 * computes it. Part of tinycodegen; static inline only. */
#ifndef TCG_BOOST_H_INCLUDED
#define TCG_BOOST_H_INCLUDED

#include <math.h>
#include <stdint.h>

#include "tcg_expit.h"

/* sklearn.utils.extmath.softmax of an F-ordered raw array (HistGradientBoosting): numpy adds
 * the exponentials class by class, left to right, whatever the number of classes. */
static inline void tcg_softmax_seq(const double *m, int32_t k, double *p)
{
    int32_t c;
    double s;
    tcg_softmax_exp(m, k, p);
    s = p[0];
    for (c = 1; c < k; ++c) {
        s = s + p[c];
    }
    for (c = 0; c < k; ++c) {
        p[c] = p[c] / s;
    }
}

/* 1 / (1 + exp(-a * m)) in double, p = [1 - q, q] (LightGBM binary, a = its sigmoid). */
static inline void tcg_lgbm_sigmoid(double m, double a, double *p)
{
    p[1] = 1.0 / (1.0 + exp(-a * m));
    p[0] = 1.0 - p[1];
}

/* XGBoost's common::Sigmoid (src/common/math.h), float32: x = std::min(-m, 88.7f),
 * q = 1 / (expf(x) + 1 + 1e-16f); p = [1 - q, q] in float (binary:logistic). */
static inline void tcg_xgb_sigmoid(float m, double *p)
{
    const float x = 88.7f < -m ? 88.7f : -m;
    const float denom = expf(x) + 1.0f + 1e-16f;
    const float q = 1.0f / denom;
    p[1] = (double)q;
    p[0] = (double)(1.0f - q);
}

/* XGBoost's common::Softmax (src/common/math.h): wmax by fmaxf in class order, e = expf(m -
 * wmax) in float, their sum in a double in class order, p = e / (float)sum in float. */
static inline void tcg_xgb_softmax(const float *m, int32_t k, double *p)
{
    int32_t c;
    float wmax = m[0], wsumf;
    double wsum = 0.0;
    for (c = 1; c < k; ++c) {
        wmax = fmaxf(m[c], wmax);
    }
    for (c = 0; c < k; ++c) {
        const float e = expf(m[c] - wmax);
        p[c] = (double)e;
        wsum += (double)e;
    }
    wsumf = (float)wsum;
    for (c = 0; c < k; ++c) {
        p[c] = (double)((float)p[c] / wsumf);
    }
}

/* XGBoost multi:softprob predict (argmax of the float probabilities) without expf: the first
 * index of the largest margin when every other margin m has m - wmax <= -2^-21 in float (then
 * any expf within 1 ulp gives e <= 1 - 2^-22 and e / sum rounds strictly below 1 / sum);
 * -1 when a margin is that close and the probabilities must decide. */
static inline int32_t tcg_xgb_clear_argmax(const float *m, int32_t k)
{
    int32_t c, best = 0;
    for (c = 1; c < k; ++c) {
        if (m[c] > m[best]) {
            best = c;
        }
    }
    for (c = 0; c < k; ++c) {
        if (c != best && m[c] - m[best] > -4.76837158203125e-07f) {
            return -1;
        }
    }
    return best;
}

#endif /* TCG_BOOST_H_INCLUDED */
