/* tinycodegen firmware example for the Arduino Uno: runs a model library (written by
 * `python -m tinycodegen compile MODEL --name NAME --format arduino`) on rows stored in flash
 * as CSV text, parsed by the library's tcg_csv.h exactly as its NAME_serial example parses
 * Serial input, and prints one line per row at 115200 baud:
 *
 *     row <i>: <class index> (<microseconds> us)
 *
 * then stops (under simavr, sleeping with interrupts off ends the simulation).
 * run_example.py writes model.h (which model) and rows.h (the rows) beside this file. */
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#include <string.h>

#include "model.h"
#include "rows.h"
#include <tcg_csv.h>

void setup()
{
    static char line[TCG_LINE_MAX];
    static float x[TCG_N_FEATURES];
    Serial.begin(115200);
    Serial.print(F("tinycodegen on the Uno: " TCG_MODEL_NAME "\n"));
    for (uint16_t i = 0; i < TCG_N_ROWS; ++i) {
        strcpy_P(line, (PGM_P)pgm_read_word(&tcg_rows[i]));
        const int32_t n = tcg_csv_row(line, x, TCG_N_FEATURES);
        Serial.print(F("row "));
        Serial.print(i);
        Serial.print(F(": "));
        if (n != TCG_N_FEATURES) {
            Serial.print(F("bad row\n"));
            continue;
        }
        const unsigned long t0 = micros();
        const int32_t c = TCG_PREDICT(x);
        const unsigned long us = micros() - t0;
        Serial.print(c);
        Serial.print(F(" ("));
        Serial.print(us);
        Serial.print(F(" us)\n"));
    }
    Serial.flush();
    cli();
    sleep_enable();
    sleep_cpu();
}

void loop()
{
}
