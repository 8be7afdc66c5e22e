/* Test harness: reads float32 rows from argv[1] (raw, N_FEATURES per row), writes one
 * int32 prediction per row and N_CLASSES float probabilities to argv[2]. Built with the model
 * under -fsanitize=address,undefined. MODEL_H, PREFIX and N_FEATURES/N_CLASSES come from -D. */
#include <stdio.h>
#include <stdlib.h>
#include MODEL_H

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

int main(int argc, char **argv)
{
    float x[N_FEATURES];
    float proba[N_CLASSES];
    FILE *in, *out;
    long rows = 0;
    if (argc != 3) {
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        return 2;
    }
    while (fread(x, sizeof(float), N_FEATURES, in) == N_FEATURES) {
        int32_t c = CAT(PREFIX, _predict)(x);
        CAT(PREFIX, _predict_proba)(x, proba);
        fwrite(&c, sizeof c, 1, out);
        fwrite(proba, sizeof(float), N_CLASSES, out);
        ++rows;
    }
    fclose(in);
    fclose(out);
    fprintf(stderr, "%ld rows\n", rows);
    return 0;
}
