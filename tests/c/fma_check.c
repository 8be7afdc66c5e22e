/* Test harness: tcg_fma (the emulation, forced by -DTCG_SVM_SOFT_FMA) against the C library's
 * fma (glibc: correctly rounded) on argv[1] pseudo-random triples, cancellation and short
 * significands included. Prints the number of differences (bits or sign of zero). */
#include <stdio.h>
#include <stdlib.h>
#include "tcg_svm.h"

static uint64_t state = 88172645463325252ull;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* A random double with a random sign, significand and exponent in [-spread, spread). */
static double draw(int spread)
{
    union {
        uint64_t u;
        double d;
    } v;
    const int e = (int)(next() % (uint64_t)(2 * spread)) - spread;
    v.u = (next() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 + e) << 52);
    return v.d;
}

int main(int argc, char **argv)
{
    long bad = 0, i, n = argc > 1 ? atol(argv[1]) : 1000000;
    for (i = 0; i < n; ++i) {
        double a = draw(60), b = draw(60), c, x, y;
        switch (i % 5) {
        case 0: c = draw(120); break;
        case 1: c = -(a * b); break;
        case 2: c = -(a * b) * (1 + 0x1p-52 * (double)((int)(next() % 7) - 3)); break;
        case 3: a = (double)(float)a; b = (double)(float)b; c = draw(30); break;
        default: a = (double)(float)a; b = a; c = draw(5); break;
        }
        x = tcg_fma(a, b, c);
        y = fma(a, b, c);
        if (x != y || (x == 0 && 1 / x != 1 / y)) {
            ++bad;
        }
    }
    printf("%ld\n", bad);
    return 0;
}
