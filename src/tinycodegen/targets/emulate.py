"""Run a linked harness ELF in unicorn and count instructions and cycles per call.

One :class:`Emulator` (one ``Uc`` instance) serves every row of one ELF: the
reset handler runs once (copying .data, zeroing .bss), the stack is filled
with a pattern, then for each row the row is written to an I/O buffer, ``r0``
(and ``r1`` for ``predict_proba``) point at it, ``lr`` points at ``tcg_halt``
and emulation runs from the model's function until it returns there.

Counting uses a block hook only (see :mod:`tinycodegen.targets.tracer`): a
per-instruction hook would skip instructions of IT blocks whose condition
fails, and costs Python work per instruction.  Each distinct block (address,
size) is disassembled and priced once (:mod:`tinycodegen.targets.cycles`);
a block ending in a conditional branch pays the refill when the next block
is not its fall-through address.

The FPU: unicorn's Cortex-M4 model starts with the FPU usable; the harness's
reset handler still sets CPACR (as real silicon needs), so the System Control
Space page is mapped as plain RAM to accept that write.  Code runs from the
image's flash mapping (read/execute only), RAM holds the stack (at its bottom,
so an overflow faults), .data and .bss; rows go to a separate I/O page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinycodegen.targets.blocks import BlockTable
from tinycodegen.targets.toolchain import TargetError
from tinycodegen.targets.tracer import BlockTracer

STACK_PATTERN = 0xA55AC33C
IO_BASE = 0x3F000000
SCS_BASE = 0xE000E000  # mapped as plain RAM so the reset handler can write CPACR
PAGE = 0x1000
MAX_TRACE = 1 << 26  # blocks one row may execute (the buffers then take 512 MB)


def _round_up(n: int, to: int = PAGE) -> int:
    return (n + to - 1) // to * to


@dataclass
class RunResult:
    """Per-row counts: instructions, cycles at P=0, pipeline refills, and outputs."""

    instructions: np.ndarray
    base_cycles: np.ndarray
    refills: np.ndarray
    outputs: np.ndarray

    def cycles(self, p: int) -> np.ndarray:
        return self.base_cycles + p * self.refills


class Emulator:
    """A loaded harness image, ready to call its functions once per data row."""

    def __init__(
        self, elf: Path, core: str, uc_cpu: str, cache_dir: Path, trace_capacity: int = 1 << 21
    ) -> None:
        from elftools.elf.elffile import ELFFile
        from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, arm_const

        self.core = core
        with open(elf, "rb") as fh:
            ef = ELFFile(fh)
            symtab = ef.get_section_by_name(".symtab")
            self.symbols = {s.name: s["st_value"] for s in symtab.iter_symbols() if s.name}
            self._funcs: list[tuple[int, str]] = sorted(
                (s["st_value"] & ~1, s.name)
                for s in symtab.iter_symbols()
                if s.name and s["st_info"]["type"] == "STT_FUNC"
            )
            segments = [
                (s["p_paddr"], s["p_vaddr"], s["p_memsz"], s.data())
                for s in ef.iter_segments()
                if s["p_type"] == "PT_LOAD"
            ]
        self.uc = uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        uc.ctl_set_cpu_model(getattr(arm_const, uc_cpu))
        self._r = arm_const
        self._map_image(segments)
        self.halt = self.address("tcg_halt")
        self.stack_bottom = self.symbols["__stack_bottom"]
        self.stack_top = self.symbols["__stack_top"]
        self._io_size = 0
        # hook first: a block translated before the hook exists would not report
        self.tracer = BlockTracer(uc, trace_capacity, cache_dir)
        self._capacity = trace_capacity
        self._reset()
        self.tracer.reset()
        code = bytes(uc.mem_read(0, self._code_end))  # flash is read-only
        self.blocks = BlockTable(code, core, self._funcs, uc)

    # -- image ---------------------------------------------------------------
    def address(self, symbol: str) -> int:
        try:
            return self.symbols[symbol] & ~1
        except KeyError:
            raise TargetError(f"symbol {symbol} not found in the linked image") from None

    def _map_image(self, segments: list[tuple[int, int, int, bytes]]) -> None:
        from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ

        flash_end = max((p + len(d) for p, v, _, d in segments if p < 0x20000000), default=0)
        ram_end = max((v + m for p, v, m, _ in segments if v >= 0x20000000), default=0)
        ram_end = max(ram_end, self.symbols.get("__stack_top", 0))
        self._code_end = _round_up(max(flash_end, 1))
        self.uc.mem_map(0, self._code_end, UC_PROT_READ | UC_PROT_EXEC)
        self.uc.mem_map(0x20000000, _round_up(max(ram_end - 0x20000000, 1)), UC_PROT_ALL)
        self.uc.mem_map(SCS_BASE, PAGE, UC_PROT_ALL)
        for paddr, _vaddr, _memsz, data in segments:
            if data:
                self.uc.mem_write(paddr, data)  # load address: the reset handler copies .data

    def _reset(self) -> None:
        r = self._r
        self.uc.reg_write(r.UC_ARM_REG_SP, self.stack_top)
        self._start(self.address("tcg_reset_handler"), "the reset handler")
        while self.tracer.overflow:  # a large .data/.bss copy filled the trace buffer
            self.tracer.reset()
            self._start(self.uc.reg_read(r.UC_ARM_REG_PC), "the reset handler")
        if self.uc.reg_read(r.UC_ARM_REG_PC) != self.halt:
            raise TargetError("the reset handler did not reach tcg_halt")
        self.clear_stack()

    def clear_stack(self) -> None:
        """Fill the stack with the pattern that :meth:`stack_peak` scans for."""
        size = self.stack_top - self.stack_bottom
        self.uc.mem_write(self.stack_bottom, np.full(size // 4, STACK_PATTERN, "<u4").tobytes())

    def read_u32(self, address: int, count: int = 1) -> list[int]:
        return np.frombuffer(self.uc.mem_read(address, 4 * count), "<u4").tolist()

    def _start(self, entry: int, what: str) -> None:
        from unicorn import UcError

        try:
            self.uc.emu_start(entry | 1, self.halt)
        except UcError as exc:
            pc = self.uc.reg_read(self._r.UC_ARM_REG_PC)
            hint = " (stack overflow?)" if self._near_stack_bottom() else ""
            raise TargetError(f"emulation of {what} faulted at pc={pc:#x}: {exc}{hint}") from exc

    def _near_stack_bottom(self) -> bool:
        sp = self.uc.reg_read(self._r.UC_ARM_REG_SP)
        return sp < self.stack_bottom + 64

    def stack_peak(self) -> int:
        """Bytes of stack touched by all calls so far (pattern scan)."""
        raw = np.frombuffer(
            self.uc.mem_read(self.stack_bottom, self.stack_top - self.stack_bottom), "<u4"
        )
        used = np.flatnonzero(raw != STACK_PATTERN)
        return 0 if used.size == 0 else int(self.stack_top - (self.stack_bottom + 4 * used[0]))

    def _ensure_io(self, nbytes: int) -> None:
        if nbytes > self._io_size:
            size = _round_up(max(nbytes, 0x10000))
            if self._io_size:
                self.uc.mem_unmap(IO_BASE, self._io_size)
            self.uc.mem_map(IO_BASE, size)
            self._io_size = size

    # -- calls ---------------------------------------------------------------
    @property
    def unpriced(self) -> set[str]:
        return self.blocks.unpriced

    def hot_functions(self, top: int = 6) -> list[tuple[str, float]]:
        return self.blocks.hot_functions(top)

    def _call(self, entry: int, out_addr: int, what: str) -> None:
        r, uc = self._r, self.uc
        uc.reg_write(r.UC_ARM_REG_SP, self.stack_top)
        uc.reg_write(r.UC_ARM_REG_LR, self.halt | 1)
        uc.reg_write(r.UC_ARM_REG_R0, IO_BASE)
        if out_addr:
            uc.reg_write(r.UC_ARM_REG_R1, out_addr)
        self._start(entry, what)

    def run(
        self, X: np.ndarray, function: str, n_out: int = 0, progress: bool = False,
        keep_counts: bool = False,
    ) -> RunResult:
        """Call ``function(x)`` (or ``function(x, out)`` when ``n_out``) per row of X.

        ``keep_counts`` adds to the block counts of earlier runs (hot functions) instead of
        starting afresh. A row longer than the trace buffer is re-run with larger buffers.
        """
        r = self._r
        X = np.ascontiguousarray(X, dtype="<f4")
        n_rows, n_feat = X.shape
        self._ensure_io(4 * (n_feat + n_out) + 8)
        out_addr = IO_BASE + 4 * n_feat + 4 if n_out else 0
        entry = self.address(function) | 1
        instr, base, refills = (np.zeros(n_rows, np.int64) for _ in range(3))
        outputs = np.zeros((n_rows, n_out), np.float32) if n_out else np.zeros(n_rows, np.int32)
        tracer, uc = self.tracer, self.uc
        ends: list[int] = []
        first = 0  # first row of the pending batch
        if not keep_counts:
            self.blocks.clear_counts()

        def flush() -> None:
            nonlocal first, ends
            if ends:
                i, b, p = self.blocks.account(
                    tracer.addr[: tracer.n], tracer.size[: tracer.n], ends, self.halt
                )
                instr[first : first + len(ends)] = i
                base[first : first + len(ends)] = b
                refills[first : first + len(ends)] = p
            first += len(ends)
            ends = []
            tracer.reset()

        step = max(1, n_rows // 20)
        for i in range(n_rows):
            if tracer.n > tracer.capacity // 2 or len(ends) >= 8192:
                flush()
            start = tracer.n
            uc.mem_write(IO_BASE, X[i].tobytes())
            what = f"{function} on row {i}"
            self._call(entry, out_addr, what)
            if tracer.overflow and start > 0:  # retry the row with an empty buffer
                tracer.rewind(start)
                flush()
                self._call(entry, out_addr, what)
            while tracer.overflow and tracer.capacity < MAX_TRACE:  # one long row
                tracer.grow(min(4 * tracer.capacity, MAX_TRACE))
                self._call(entry, out_addr, what)
            if tracer.overflow:
                raise TargetError(f"{what} did not return within {MAX_TRACE} basic blocks")
            if uc.reg_read(r.UC_ARM_REG_PC) != self.halt:
                raise TargetError(f"{what} stopped before returning")
            if n_out:
                outputs[i] = np.frombuffer(uc.mem_read(out_addr, 4 * n_out), "<f4")
            else:
                v = uc.reg_read(r.UC_ARM_REG_R0)
                outputs[i] = v - (1 << 32) if v & 0x80000000 else v
            ends.append(tracer.n)
            if progress and (i + 1) % step == 0:
                print(f"  {function}: {i + 1}/{n_rows} rows", flush=True)
        flush()
        return RunResult(instr, base, refills, outputs)

    def shrink(self) -> None:
        """Give back trace buffers grown for long rows."""
        if self.tracer.capacity > self._capacity:
            self.tracer.grow(self._capacity)
