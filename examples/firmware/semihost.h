/* Minimal ARM semihosting for the tinycodegen firmware example (no libc I/O).
 * Works under qemu-system-arm -semihosting and with a debugger that enables
 * semihosting; on a board without a debugger attached, BKPT faults. */
#ifndef TCG_SEMIHOST_H
#define TCG_SEMIHOST_H

void sh_write0(const char *text);                 /* SYS_WRITE0: print a C string */
void sh_exit(int status) __attribute__((noreturn)); /* SYS_EXIT: stop the emulator */

#endif
