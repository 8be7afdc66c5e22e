/* tinycodegen measurement baseline: a model that does nothing (see tcg_stub.h). */
#include "tcg_stub.h"

int32_t tcg_stub_predict(const float *x)
{
    (void)x;
    return 0;
}

void tcg_stub_predict_proba(const float *x, float *out)
{
    (void)x;
    (void)out;
}
