/* Test harness: batch wrappers of the tcg_qnet.h helpers, loaded with ctypes by
 * tests/test_qlinear.py and compared with tinycodegen/ir/qnet_ops.py. */
#include <stddef.h>
#include <stdint.h>
#include "tcg_qnet.h"

void prim_code(const uint32_t *bits, const uint32_t *am, const int32_t *ea, const int64_t *cf,
               uint32_t qmax, size_t n, uint32_t *out);
void prim_code32(const uint32_t *bits, const uint32_t *ak, const int32_t *cf,
                 uint32_t qmax, size_t n, uint32_t *out);
void prim_category(const uint32_t *bits, int32_t k, size_t n, int32_t *ok, int32_t *code);
void prim_ratio(const uint32_t *p, const uint32_t *q, size_t n, float *out);
void prim_requant(const int64_t *acc, const int64_t *mult, const int32_t *shift, size_t n,
                  int64_t *out);
void prim_requant32(const int32_t *acc, const int32_t *mult, const int32_t *shift,
                    const int32_t *pre, size_t n, int32_t *out);
void prim_interp(const uint16_t *t, int32_t nseg, const int64_t *x, size_t n, int32_t *out);
void prim_sigmoid(const uint16_t *t, const int64_t *r, size_t n, int32_t *out);

void prim_code(const uint32_t *bits, const uint32_t *am, const int32_t *ea, const int64_t *cf,
               uint32_t qmax, size_t n, uint32_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_code(bits[i], am[i], ea[i], cf[i], qmax);
    }
}

void prim_code32(const uint32_t *bits, const uint32_t *ak, const int32_t *cf,
                 uint32_t qmax, size_t n, uint32_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_code32(bits[i], ak[i], cf[i], qmax);
    }
}

void prim_category(const uint32_t *bits, int32_t k, size_t n, int32_t *ok, int32_t *code)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        code[i] = -7;
        ok[i] = tcg_q_category(bits[i], k, &code[i]);
    }
}

void prim_ratio(const uint32_t *p, const uint32_t *q, size_t n, float *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_ratio(p[i], q[i]);
    }
}

void prim_requant(const int64_t *acc, const int64_t *mult, const int32_t *shift, size_t n,
                  int64_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_requant(acc[i], mult[i], shift[i]);
    }
}

void prim_requant32(const int32_t *acc, const int32_t *mult, const int32_t *shift,
                    const int32_t *pre, size_t n, int32_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_requant32(acc[i], mult[i], shift[i], pre[i]);
    }
}

void prim_interp(const uint16_t *t, int32_t nseg, const int64_t *x, size_t n, int32_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_interp_u16(t, nseg, x[i]);
    }
}

void prim_sigmoid(const uint16_t *t, const int64_t *r, size_t n, int32_t *out)
{
    size_t i;
    for (i = 0; i < n; ++i) {
        out[i] = tcg_q_sigmoid(t, r[i]);
    }
}
