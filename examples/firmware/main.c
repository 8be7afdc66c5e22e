/* tinycodegen firmware example: run a generated model on rows stored in flash.
 *
 * Built by the Makefile with -DTCG_MODEL_HEADER="NAME.h", -DTCG_PREDICT=NAME_predict
 * and -DTCG_UPPER=NAME (upper-cased); rows.h is generated from a CSV by
 * make_rows.py.  Start-up code and linker script are tinycodegen's measurement
 * harness (tinycodegen/targets/harness): its reset handler sets up .data/.bss,
 * enables the FPU and calls tcg_main(), defined here.
 *
 * Output, one line per row:   row <i>: <predicted class>
 */
#include <stdint.h>

#include TCG_MODEL_HEADER
#include "rows.h"
#include "semihost.h"

#define TCG_XCAT(a, b) a##b
#define TCG_CAT(a, b) TCG_XCAT(a, b)

/* C99 compile-time check: rows.h must have as many columns as the model has features */
typedef char tcg_rows_match_model[(TCG_ROW_FEATURES == TCG_CAT(TCG_UPPER, _N_FEATURES)) ? 1 : -1];

void tcg_main(void);

static char *put_uint(char *p, uint32_t v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s != '\0') {
        *p++ = *s++;
    }
    return p;
}

void tcg_main(void)
{
    char line[48];
    sh_write0("tinycodegen firmware: " TCG_MODEL_HEADER "\n");
    for (uint32_t i = 0; i < TCG_N_ROWS; ++i) {
        int32_t c = TCG_PREDICT(tcg_rows[i]);
        char *p = put_str(line, "row ");
        p = put_uint(p, i);
        p = put_str(p, ": ");
        if (c < 0) {
            *p++ = '-';
            p = put_uint(p, (uint32_t)(-(c + 1)) + 1u);
        } else {
            p = put_uint(p, (uint32_t)c);
        }
        p = put_str(p, "\n");
        *p = '\0';
        sh_write0(line);
    }
    sh_exit(0);
}
