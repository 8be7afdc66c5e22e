"""The trees' input check as per-target code: sklearn rejects +-inf (and NaN unless the trees
route it) anywhere in the row, so every walk first scans all of x. ``tcg_scan`` (tcg_input.h)
is the portable loop; these generate a model's own ``NAME_scan`` for the layouts that inline it:

- Thumb-2 with a single-precision FPU (Cortex-M4F/M7): x summed in assembly, a load-multiple and
  one ``vadd.f32`` per value; a sum of finite values is finite or overflows, one holding +-inf
  or NaN never is, and a non-finite sum sends x to the exact ``tcg_classify``. ``speed``
  unrolls the sum (``tree_speed_scan.c.tmpl``), ``size`` loops over chunks of 8
  (``tree_size_scan.c.tmpl``); both through ``tree_scan_fpu.c.tmpl``.
- Thumb-2 without FPU: a load-multiple of four and one carry per value (``speed``).
- ARMv6-M (Cortex-M0/M0+): a load-multiple of three, a shift, an add and a branch on its carry
  per value (``speed``).
- AVR: a loop over the two exponent bytes; elsewhere an OR of exponent tests (``speed``).
"""

from __future__ import annotations

from tinycodegen.core.csource import render

UNROLL_SCAN = 64  # models with up to this many features get the speed layout's unrolled check
FPU_CHUNK = 8  # values per load-multiple in the size layout's loop
FPU_SCAN_MAX = FPU_CHUNK + 255 * FPU_CHUNK  # the loop counts at most 255 chunks


def _quote(lines: list[str]) -> list[str]:
    return [f'        "{line}\\n\\t"' for line in lines]


def _asm_lines(n: int) -> list[str]:
    """Thumb-2: count the values of x[0..n) whose exponent is all ones (see the template)."""
    out = []
    for _ in range(n // 4):
        out.append("ldmia %[p]!, {r4, r5, r6, r8}")
        for r in ("r4", "r5", "r6", "r8"):
            out += [f"cmn %[k], {r}, lsl #1", "adc %[bad], %[bad], #0"]
    for _ in range(n % 4):
        out += ["ldr r4, [%[p]], #4", "cmn %[k], r4, lsl #1", "adc %[bad], %[bad], #0"]
    return _quote(out)


def _thumb1_lines(n: int) -> list[str]:
    """ARMv6-M (Cortex-M0/M0+): jump to 1 when some value of x[0..n) has an all-ones exponent
    (a load-multiple of three, then per value a shift, an add that carries exactly then, and
    a branch on the carry: three cycles where no branch is taken). Label 1 sits between the
    two halves, within every conditional branch's reach (+-256 bytes) for n <= UNROLL_SCAN."""
    groups = [("r4", "r5", "r6")[:min(3, n - i)] for i in range(0, n, 3)]
    half = (len(groups) + 1) // 2
    out = []
    for g, regs in enumerate(groups):
        if g == half:
            out += ["b 3f\\n", "1:\\n\\t", "movs %[bad], #1\\n\\t", "b 2f\\n", "3:\\n\\t"]
        out.append(f"ldmia %[p]!, {{{', '.join(regs)}}}\\n\\t")
        for r in regs:
            out += [f"lsls {r}, {r}, #1\\n\\t", f"adds {r}, {r}, %[k]\\n\\t",
                    f"bcs 1{'f' if g < half else 'b'}\\n\\t"]
    if half == len(groups):  # one group: label 1 after it
        out += ["b 3f\\n", "1:\\n\\t", "movs %[bad], #1\\n\\t", "b 2f\\n", "3:\\n\\t"]
    return [f'        "{line}"' for line in out]


def _fpu_group(k: int, lo: int) -> list[str]:
    """Load k values into s{lo}.. and add them (all but s0) to s0."""
    regs = f"s{lo}-s{lo + k - 1}" if k > 1 else f"s{lo}"
    return [f"vldmia %[p]!, {{{regs}}}"] + [f"vadd.f32 s0, s0, s{r}" for r in range(1, lo + k)]


def fpu_sum_lines(n: int, chunk: int = 0) -> list[str]:
    """Thumb-2 with a single-precision FPU: s0 = the float sum of x[0..n) (n >= 1). ``chunk``
    0: unrolled, up to 16 values per load-multiple; else ``chunk`` values per load-multiple in
    a loop that ``%[i]`` counts (about half the flash, ~15 more cycles at 41 values)."""
    first = min(n, chunk or 16)
    out = _fpu_group(first, 0)
    rest = n - first
    if chunk:
        loops, rest = divmod(rest, chunk)
        if loops:
            body = _fpu_group(chunk, 1)
            out += [f"movs %[i], #{loops}", "1: " + body[0], *body[1:],
                    "subs %[i], %[i], #1", "bne 1b"]
    while rest:
        k = min(rest, 15)
        out += _fpu_group(k, 1)
        rest -= k
    return _quote(out)


def _fpu_function(name: str, n: int, chunk: int) -> str:
    """``NAME_scan`` by the FPU sum, under its ``#if`` (the caller's template closes it)."""
    regs = range(9) if chunk else range(16)
    names = [f'"s{r}"' for r in regs] + (['"cc"'] if chunk else [])
    clobbers = ",\n          ".join(", ".join(names[i:i + 13]) for i in range(0, len(names), 13))
    return render("tree_scan_fpu.c.tmpl", NAME=name, UNAME=name.upper(),
                  QUAL="static" if chunk else "__attribute__((always_inline)) static inline",
                  DECL_I=", i" if chunk else "",
                  OUT_I=', [i] "=&r"(i)' if chunk else "",
                  VOID_I="    (void)i;\n" if chunk else "",
                  CLOBBERS=clobbers, FPU="\n".join(fpu_sum_lines(n, chunk)))


def speed_scan(name: str, n: int) -> str:
    """The speed layout's unrolled ``NAME_scan`` for every target (n <= UNROLL_SCAN)."""
    terms = [f"TCG_NONFINITE(tcg_bits(x[{i}]))" for i in range(n)]
    lines = [" | ".join(terms[i:i + 3]) for i in range(0, n, 3)]
    return "\n" + render("tree_speed_scan.c.tmpl", NAME=name, UNAME=name.upper(),
                         FPU_FUNC=_fpu_function(name, n, 0),
                         TERMS="        " + "\n        | ".join(lines),
                         ASM="\n".join(_asm_lines(n)), THUMB1="\n".join(_thumb1_lines(n)))


def size_scan(name: str, n: int) -> str:
    """The size layout's ``NAME_scan``: the FPU sum in a loop, else ``tcg_scan``
    (1 <= n <= FPU_SCAN_MAX)."""
    return render("tree_size_scan.c.tmpl", NAME=name,
                  FPU_FUNC=_fpu_function(name, n, FPU_CHUNK))
