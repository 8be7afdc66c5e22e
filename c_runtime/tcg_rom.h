/* tcg_rom.h - read-only tables in program memory. Part of tinycodegen; macros only.
 *
 * On AVR (Harvard architecture) a `static const` table is copied into the 2 KB of RAM at
 * start-up unless it is placed in flash, and then it must be read with the pgm_read_* routines.
 * Every generated table that may be large is declared `static const TCG_ROM type name[]` and
 * read through TCG_ROM_* below; elsewhere (Cortex-M, hosts, C++), TCG_ROM is empty and the
 * readers are plain loads.
 */
#ifndef TCG_ROM_H_INCLUDED
#define TCG_ROM_H_INCLUDED

#include <stdint.h>

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define TCG_ROM PROGMEM
#define TCG_ROM_U8(p) ((uint8_t)pgm_read_byte(p))
#define TCG_ROM_I8(p) ((int8_t)pgm_read_byte(p))
#define TCG_ROM_U16(p) ((uint16_t)pgm_read_word(p))
#define TCG_ROM_I16(p) ((int16_t)pgm_read_word(p))
#define TCG_ROM_U32(p) ((uint32_t)pgm_read_dword(p))
#define TCG_ROM_I32(p) ((int32_t)pgm_read_dword(p))
#define TCG_ROM_F32(p) (pgm_read_float(p))
#else
#define TCG_ROM
#define TCG_ROM_U8(p) (*(p))
#define TCG_ROM_I8(p) (*(p))
#define TCG_ROM_U16(p) (*(p))
#define TCG_ROM_I16(p) (*(p))
#define TCG_ROM_U32(p) (*(p))
#define TCG_ROM_I32(p) (*(p))
#define TCG_ROM_F32(p) (*(p))
#endif

#endif /* TCG_ROM_H_INCLUDED */
