/* tinycodegen measurement harness: vector table and reset handler.
 *
 * Bare-metal Cortex-M start-up written for tinycodegen: copies .data (and the
 * picolibc TLS template .tdata) from flash to RAM, zeroes .bss/.tbss, enables
 * the FPU when compiled for a hard-float ABI, then calls tcg_main() (weak; the
 * measurement build leaves it empty) and parks in tcg_halt().  The emulator
 * runs the reset handler once, up to tcg_halt, then calls NAME_predict per row.
 */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

void tcg_reset_handler(void);
void tcg_fault_handler(void);
void tcg_halt(void);
void tcg_main(void);

#ifdef TCG_LIBC_PICOLIBC
extern char __tls_base[];
void _set_tls(void *tls);
#endif

__attribute__((section(".isr_vector"), used))
void (*const tcg_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    tcg_reset_handler,
    tcg_fault_handler, /* NMI */
    tcg_fault_handler, /* HardFault */
    tcg_fault_handler, /* MemManage */
    tcg_fault_handler, /* BusFault */
    tcg_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    tcg_fault_handler, /* SVCall */
    0, 0,
    tcg_fault_handler, /* PendSV */
    tcg_fault_handler, /* SysTick */
};

__attribute__((weak)) void tcg_main(void) {}

__attribute__((noinline, noreturn)) void tcg_halt(void)
{
    for (;;) {
        __asm__ volatile("nop");
    }
}

__attribute__((noreturn)) void tcg_fault_handler(void)
{
    for (;;) {
        __asm__ volatile("nop");
    }
}

__attribute__((noreturn)) void tcg_reset_handler(void)
{
    uint32_t *src = __data_load;
    uint32_t *dst = __data_start;
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    for (dst = __bss_start; dst < __bss_end; ++dst) {
        *dst = 0u;
    }
#if defined(__ARM_FP) && !defined(__SOFTFP__)
    /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#ifdef TCG_LIBC_PICOLIBC
    _set_tls(__tls_base);
#endif
    tcg_main();
    tcg_halt();
}
