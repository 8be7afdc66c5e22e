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
    double top = m[0], s;
    for (c = 1; c < k; ++c) {
        if (m[c] > top) {
            top = m[c];
        }
    }
    for (c = 0; c < k; ++c) {
        p[c] = exp(m[c] - top);
    }
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

/* 1 / (1 + expf(-m)) in float, p = [1 - q, q] in float (XGBoost binary:logistic). */
static inline void tcg_xgb_sigmoid(float m, double *p)
{
    const float q = 1.0f / (1.0f + expf(-m));
    p[1] = (double)q;
    p[0] = (double)(1.0f - q);
}

/* exp(m - max) / their sum in class order, in float (XGBoost multi:softprob). */
static inline void tcg_xgb_softmax(const float *m, int32_t k, double *p)
{
    int32_t c;
    float top = m[0], s = 0.0f;
    for (c = 1; c < k; ++c) {
        if (m[c] > top) {
            top = m[c];
        }
    }
    for (c = 0; c < k; ++c) {
        s = s + expf(m[c] - top);
    }
    for (c = 0; c < k; ++c) {
        p[c] = (double)(expf(m[c] - top) / s);
    }
}

#endif /* TCG_BOOST_H_INCLUDED */
