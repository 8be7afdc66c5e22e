/* tcg_svm.h - kernel SVM arithmetic shared by tinycodegen SVC models. Part of tinycodegen;
 * static inline only, so any number of models can include it in one program.
 *
 * Two kinds of functions live here:
 *  - the float fast path: tcg_expf_neg, a float-only exp for arguments <= 0 whose relative
 *    error is at most 1.72 float ulps (checked against exp() for every float in [-104, 0]);
 *    it needs no libm, so it computes the same bits on every IEEE-754 float unit;
 *  - the exact path: libsvm's own double arithmetic, operation for operation: its powi, its
 *    Platt sigmoid, its pairwise coupling, and the summation order of the BLAS ddot that
 *    scikit-learn's libsvm calls (tcg_ddot.h: one replay per OpenBLAS kernel); exp and tanh
 *    come from <math.h>.
 * Build with -ffp-contract=off: a fused multiply-add where the source has a product and a sum
 * changes the exact path's bits.
 */
#ifndef TCG_SVM_H_INCLUDED
#define TCG_SVM_H_INCLUDED

#include <math.h>
#include <stdint.h>

#include "tcg_ddot.h"

/* exp(y) in float for y <= 0 (NaN gives NaN, below -104 gives 0). Cody-Waite reduction by
 * ln 2, degree-7 Taylor polynomial, scale by 2^n built from its bits (no libm). */
static inline float tcg_expf_neg(float y)
{
    union {
        uint32_t u;
        float f;
    } s;
    float v, nf, r, p;
    int32_t n;
    if (!(y >= -104.0f)) {
        return (y != y) ? y : 0.0f;
    }
    v = y * 1.44269502f;
    n = (int32_t)(v - 0.5f);
    nf = (float)n;
    r = (y - nf * 0.693145752f) - nf * 1.42860677e-06f;
    p = 1.98412701e-04f;
    p = p * r + 1.38888892e-03f;
    p = p * r + 8.33333377e-03f;
    p = p * r + 4.16666679e-02f;
    p = p * r + 1.66666672e-01f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    if (n >= -126) {
        s.u = (uint32_t)(n + 127) << 23;
        return p * s.f;
    }
    s.u = (uint32_t)(n + 64 + 127) << 23;
    return (p * s.f) * 5.42101086e-20f; /* 2^-64 */
}

/* libsvm's powi: binary exponentiation, same multiplications in the same order. */
static inline double tcg_powi(double base, int32_t times)
{
    double tmp = base, ret = 1.0;
    int32_t t;
    for (t = times; t > 0; t /= 2) {
        if (t % 2 == 1) {
            ret *= tmp;
        }
        tmp = tmp * tmp;
    }
    return ret;
}

/* libsvm's sigmoid_predict: Platt's 1 / (1 + exp(dec * A + B)), written to avoid
 * cancellation, then clipped to [1e-7, 1 - 1e-7] as svm_predict_probability does. */
static inline double tcg_svm_sigmoid(double dec, double a, double b)
{
    const double f = dec * a + b;
    double p;
    if (f >= 0) {
        p = exp(-f) / (1.0 + exp(-f));
    } else {
        p = 1.0 / (1 + exp(f));
    }
    p = (p > 1e-7) ? p : 1e-7; /* libsvm: min(max(p, min_prob), 1 - min_prob) */
    return (p < 1 - 1e-7) ? p : 1 - 1e-7;
}

/* libsvm's multiclass_probability (Wu, Lin and Weng, method 2) for k classes: r is the k*k
 * pairwise matrix (row-major), p receives k probabilities; q (k*k) and qp (k) are scratch. */
static inline void tcg_svm_coupling(int32_t k, const double *r, double *p, double *q,
                                    double *qp)
{
    int32_t t, j, iter;
    const int32_t max_iter = k > 100 ? k : 100;
    const double eps = 0.005 / k;
    double pqp;
    for (t = 0; t < k; ++t) {
        p[t] = 1.0 / k;
        q[t * k + t] = 0;
        for (j = 0; j < t; ++j) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = q[j * k + t];
        }
        for (j = t + 1; j < k; ++j) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (iter = 0; iter < max_iter; ++iter) {
        double max_error = 0;
        pqp = 0;
        for (t = 0; t < k; ++t) {
            qp[t] = 0;
            for (j = 0; j < k; ++j) {
                qp[t] += q[t * k + j] * p[j];
            }
            pqp += p[t] * qp[t];
        }
        for (t = 0; t < k; ++t) {
            const double error = fabs(qp[t] - pqp);
            if (error > max_error) {
                max_error = error;
            }
        }
        if (max_error < eps) {
            break;
        }
        for (t = 0; t < k; ++t) {
            const double diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (j = 0; j < k; ++j) {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

#endif /* TCG_SVM_H_INCLUDED */
