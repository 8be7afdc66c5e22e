/* tinycodegen measurement baseline: a model that does nothing.
 * Follows the generated-model contract; the stub image links it in place of a
 * real model, so image minus stub is what the model itself costs. */
#ifndef TCG_STUB_H
#define TCG_STUB_H
#include <stdint.h>
#define TCG_STUB_N_FEATURES 1
#define TCG_STUB_N_CLASSES 1
int32_t tcg_stub_predict(const float *x);
void tcg_stub_predict_proba(const float *x, float *out);
#endif
