/* tcg_csv.h - read feature values from text (the Arduino serial example). Part of tinycodegen.
 *
 * tcg_csv_value parses one decimal number ("12", "-0.05", "1.3799639e+09", "nan", "inf") into
 * the float nearest to it. Values with at most 9 significant digits whose exact value is an
 * integer below 2^32, or an integer of at most 7 digits times a power of ten between 1e-10 and
 * 1e10, are converted with one IEEE rounding (integer to float conversion, or one float
 * multiplication or division of exact operands), so they give the same float as a correctly
 * rounding parser such as Python's or NumPy's (NumPy prints NSL-KDD's float32 features in
 * these forms). Other values go through the C library's strtod (which may differ in the last
 * bit on small targets).
 *
 * tcg_csv_row parses "v0,v1,...,vn-1" (spaces allowed around values, a trailing '\r' or '\n'
 * ends the row). Only <stdint.h>, <stdlib.h> and <math.h>; no heap, no writable globals.
 */
#ifndef TCG_CSV_H_INCLUDED
#define TCG_CSV_H_INCLUDED

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define TCG_CSV_MAX_CHARS 40 /* longest value tcg_csv_value accepts */

static inline int tcg_csv_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline char tcg_csv_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* 1 if s[0..len) is the word w (lower-case) in any case. */
static inline int tcg_csv_word(const char *s, uint32_t len, const char *w)
{
    uint32_t i = 0u;
    while (i < len && w[i] != '\0' && tcg_csv_lower(s[i]) == w[i]) {
        ++i;
    }
    return i == len && w[i] == '\0';
}

/* Power of ten 10^k for 0 <= k <= 10: every one is exact in float. */
static inline float tcg_csv_pow10(int32_t k)
{
    float p = 1.0f;
    while (k-- > 0) {
        p *= 10.0f;
    }
    return p;
}

/* The value of s[0..len) (no surrounding spaces) in *out; returns 1, or 0 if it is no number. */
static inline int tcg_csv_value(const char *s, uint32_t len, float *out)
{
    char buf[TCG_CSV_MAX_CHARS + 1];
    uint32_t i = 0u, m = 0u, digits = 0u;
    int32_t e = 0, ex = 0;
    int neg = 0, exact = 1, any = 0;
    if (len == 0u || len > TCG_CSV_MAX_CHARS) {
        return 0;
    }
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1u;
    }
    if (tcg_csv_word(s + i, len - i, "nan")) {
        *out = NAN;
        return 1;
    }
    if (tcg_csv_word(s + i, len - i, "inf") || tcg_csv_word(s + i, len - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return 1;
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i, any = 1) {
        if (m == 0u && s[i] == '0') {
            continue; /* leading zero */
        }
        if (digits < 9u) {
            m = m * 10u + (uint32_t)(s[i] - '0');
            ++digits;
        } else {
            ++e;
            exact = exact && s[i] == '0';
        }
    }
    if (i < len && s[i] == '.') {
        for (++i; i < len && s[i] >= '0' && s[i] <= '9'; ++i, any = 1) {
            if (m == 0u && s[i] == '0') {
                --e;
            } else if (digits < 9u) {
                m = m * 10u + (uint32_t)(s[i] - '0');
                ++digits;
                --e;
            } else {
                exact = exact && s[i] == '0';
            }
        }
    }
    if (!any) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, edig = 0;
        ++i;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            ++i;
        }
        for (; i < len && s[i] >= '0' && s[i] <= '9'; ++i, edig = 1) {
            if (ex < 10000) {
                ex = ex * 10 + (int32_t)(s[i] - '0');
            }
        }
        if (!edig) {
            return 0;
        }
        e += eneg ? -ex : ex;
    }
    if (i != len) {
        return 0;
    }
    if (m == 0u && exact) {
        *out = neg ? -0.0f : 0.0f;
        return 1;
    }
    if (exact) {
        uint32_t u = m;
        int32_t k = e;
        while (k > 0 && u <= UINT32_MAX / 10u) {
            u *= 10u;
            --k;
        }
        if (k == 0) { /* an integer below 2^32: one rounding */
            *out = neg ? -(float)u : (float)u;
            return 1;
        }
        if (m <= 16777216u && e >= -10 && e <= 10) { /* exact operands, one rounding */
            const float f = e < 0 ? (float)m / tcg_csv_pow10(-e) : (float)m * tcg_csv_pow10(e);
            *out = neg ? -f : f;
            return 1;
        }
    }
    for (i = 0u; i < len; ++i) {
        buf[i] = s[i];
    }
    buf[len] = '\0';
    *out = (float)strtod(buf, (char **)0);
    return 1;
}

/* Parses up to n comma-separated values of line into x; returns how many values the row has
 * (n when it matches the model), or -1 - i when value i is no number. */
static inline int32_t tcg_csv_row(const char *line, float *x, int32_t n)
{
    int32_t count = 0;
    const char *p = line;
    for (;;) {
        const char *a, *b;
        while (tcg_csv_is_space(*p)) {
            ++p;
        }
        a = p;
        while (*p != ',' && *p != '\0' && *p != '\r' && *p != '\n') {
            ++p;
        }
        b = p;
        while (b > a && tcg_csv_is_space(b[-1])) {
            --b;
        }
        if (count < n && !tcg_csv_value(a, (uint32_t)(b - a), &x[count])) {
            return -1 - count;
        }
        ++count;
        if (*p != ',') {
            return count;
        }
        ++p;
    }
}

#endif /* TCG_CSV_H_INCLUDED */
