"""Flash, static RAM, stack and cycles of a generated model on the ATmega328P (simavr).

The harness (``harness/avr_main.c.in``) holds a batch of rows in program memory; the host
patches each batch into the linked ELF (no relink) and runs it in simavr, which is
cycle-exact. Around each call Timer1 counts at prescaler 1 and a fixed-length interrupt counts
its overflows; the firmware prints the timer overhead with no call and the cost of one
overflow, so a call's cycles are exact: ticks - overflows x interrupt - overhead (the call,
its argument set-up and the return count, as on the Cortex-M targets).

Sizes come from a *sizing* link whose memory regions are larger than the part, so a model
that does not fit still has a size ("does not fit: N B"): flash = .text + .data without the
row batch, static RAM = .data + .bss, each minus the same harness with the do-nothing model.
The stack is painted below the call; its peak includes the return address.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinycodegen.errors import BuildError
from tinycodegen.targets.avr import (
    AVR_CFLAGS,
    AVR_LDFLAGS,
    AVR_SIZING,
    find_avr_gcc,
    find_simavr,
    run_simavr,
)
from tinycodegen.targets.emulate import RunResult
from tinycodegen.targets.toolchain import (
    TargetError,
    TargetSpec,
    content_key,
    harness_text,
    model_sources,
    run_tool,
    tool_version,
)

if TYPE_CHECKING:
    from tinycodegen.targets.measure import Measurement

ROWS, N_ROWS, SHAPE = "tcg_avr_rows", "tcg_avr_n_rows", "tcg_avr_shape"
MAX_BATCH = 256  # rows per simavr run (the batch must also fit the free flash)
FREQ = 16_000_000
CALIBRATION_NOPS = 16  # the harness's second "@K" line: 16 nops across one overflow
STUB = "tcg_stub"
MIN_STACK = 64  # below this much free RAM a model is not run (the harness needs ~30 B)
CYCLE_MODEL = ("simavr (cycle-exact AVR core), Timer1 at prescaler 1 around the call, 16 MHz; "
               "the call, argument set-up and return included")


@dataclass(frozen=True)
class AvrImage:
    elf: Path
    flash: int  # .text + .data, without the row batch
    ram: int  # .data + .bss
    cap: int  # rows the batch holds


@dataclass(frozen=True)
class _Layout:
    symbols: dict[str, tuple[int, int]]  # name -> (address, size)
    sizes: dict[str, int]  # section name -> bytes
    loaded: list[tuple[int, int, int]]  # (address, size, file offset) of loaded PROGBITS


def _layout(elf: Path) -> _Layout:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as fh:
        ef = ELFFile(fh)
        syms = {s.name: (s["st_value"], s["st_size"])
                for s in ef.get_section_by_name(".symtab").iter_symbols() if s.name}
        sizes = {s.name: s["sh_size"] for s in ef.iter_sections()}
        loaded = [(s["sh_addr"], s["sh_size"], s["sh_offset"]) for s in ef.iter_sections()
                  if s["sh_type"] == "SHT_PROGBITS" and s["sh_flags"] & 0x2]
    return _Layout(syms, sizes, loaded)


def _sizes(elf: Path) -> tuple[int, int]:
    lay = _layout(elf)
    text, data, bss = (lay.sizes.get(n, 0) for n in (".text", ".data", ".bss"))
    return text + data - lay.symbols[ROWS][1], data + bss


def _render_main(name: str, proba: bool, cap: int) -> str:
    return (harness_text("avr_main.c.in").replace("@NAME@", name).replace("@UPPER@", name.upper())
            .replace("@FUNC@", "predict_proba" if proba else "predict")
            .replace("@PROBA@", "1" if proba else "0").replace("@CAP@", str(cap)))


def build_avr(spec: TargetSpec, c_dir: Path | None, name: str | None, cache: Path, *,
              proba: bool, cap: int, sizing: bool) -> AvrImage:
    """Link ``name`` (the stub when None) into the AVR harness with ``cap`` rows; cached."""
    gcc = find_avr_gcc()
    if c_dir is None or name is None:
        name = STUB
        sources = [(f, harness_text(f).encode()) for f in ("tcg_stub.c", "tcg_stub.h")]
    else:
        c_file, h_file, others = model_sources(c_dir, name)
        sources = [(p.name, p.read_bytes()) for p in (c_file, h_file, *others)]
    main = _render_main(name, proba, cap)
    flags = (*spec.cpu_flags, *AVR_CFLAGS, *AVR_LDFLAGS, *(AVR_SIZING if sizing else ()))
    key = content_key([tool_version(gcc), " ".join(flags), main,
                       *[f"{n}\0" for n, _ in sources], *[d for _, d in sources]])
    out = cache / spec.name / f"{name}-{'s' if sizing else 'r'}{cap}-{key}"
    elf = out / "image.elf"
    if not elf.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=out.parent))
        try:
            for fname, data in sources:
                (work / fname).write_bytes(data)
            (work / "tcg_avr_main.c").write_text(main)
            c_files = ["tcg_avr_main.c"] + [n for n, _ in sources if n.endswith(".c")]
            try:
                run_tool([gcc, *flags, "-I.", *c_files, "-o", "image.elf"],
                         f"building for {spec.name}", work)
            except BuildError as exc:
                if "computes in IEEE binary64" not in str(exc):
                    raise
                raise TargetError(f"n/a on {spec.name}: the model computes in IEEE binary64 "
                                  "and avr-gcc's double is 32 bits (its C stops the build)"
                                  ) from None
            try:
                os.replace(work, out)
            except OSError:  # another process finished the same build first
                if not elf.is_file():
                    raise
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    flash, ram = _sizes(elf)
    return AvrImage(elf, flash, ram, cap)


def _offset(lay: _Layout, sym: str) -> tuple[int, int]:
    """(file offset, size) of a symbol's bytes in the ELF."""
    addr, size = lay.symbols[sym]
    off = next((o + addr - a for a, s, o in lay.loaded if a <= addr < a + s), None)
    if off is None:
        raise TargetError(f"symbol {sym} is not in a loaded section of the image")
    return off, size


def shape(elf: Path) -> tuple[int, int]:
    """(n_features, n_classes) recorded by the harness."""
    off, _ = _offset(_layout(elf), SHAPE)
    nf, nc = np.frombuffer(elf.read_bytes()[off:off + 4], "<u2").tolist()
    return int(nf), int(nc)


def _patch(elf: Path, X: np.ndarray, dest: Path) -> None:
    lay = _layout(elf)
    data = bytearray(elf.read_bytes())
    for sym, payload in ((ROWS, np.ascontiguousarray(X, "<f4").tobytes()),
                         (N_ROWS, len(X).to_bytes(2, "little"))):
        off, size = _offset(lay, sym)
        if len(payload) > size:
            raise TargetError(f"{len(X)} rows do not fit the harness's batch of {size} bytes")
        data[off:off + len(payload)] = payload
    dest.write_bytes(bytes(data))


def _words(line: str) -> list[int]:
    return [int(w, 16) for w in line[1:].split()[1 if line.startswith(("@K", "@S")) else 0:]]


class AvrRunner:
    """Runs rows through one linked harness in simavr, ``Emulator.run``-style: the
    instruction and cycle columns of the result both hold cycles (simavr counts no
    instructions; the row budget is then a cycle budget)."""

    budget_unit = "cycle"

    def __init__(self, image: AvrImage, mcu: str, n_features: int, progress: bool = False):
        find_simavr()
        self.image, self.mcu, self.n_features, self.progress = image, mcu, n_features, progress
        self.stack = 0
        self.overflow = False  # a call used all the RAM between static data and stack

    def run(self, X: np.ndarray, function: str, n_out: int = 0, progress: bool = False,
            keep_counts: bool = False) -> RunResult:
        X = np.ascontiguousarray(X, dtype="<f4")
        if X.shape[1] != self.n_features:
            raise TargetError(f"rows have {X.shape[1]} features, the model {self.n_features}")
        cycles = np.zeros(len(X), np.int64)
        outputs = np.zeros((len(X), n_out), np.float32) if n_out else np.zeros(len(X), np.int32)
        with tempfile.TemporaryDirectory(prefix="tcg-avr-") as tmp:
            fw = Path(tmp) / "batch.elf"
            for start in range(0, len(X), self.image.cap):
                part = X[start:start + self.image.cap]
                _patch(self.image.elf, part, fw)
                c, o = self._batch(fw, len(part), function, n_out)
                cycles[start:start + len(part)], outputs[start:start + len(part)] = c, o
                if self.progress or progress:
                    print(f"  {function}: {start + len(part)}/{len(X)} rows (simavr)", flush=True)
        return RunResult(cycles, cycles.copy(), np.zeros(len(X), np.int64), outputs)

    def _batch(self, fw: Path, n: int, function: str,
               n_out: int) -> tuple[np.ndarray, np.ndarray]:
        lines = [ln for ln in run_simavr(fw, mcu=self.mcu, freq=FREQ) if ln.startswith("@")]
        cal = [_words(ln) for ln in lines if ln.startswith("@K")]
        rows = [_words(ln) for ln in lines if ln.startswith("@ ")]
        end = [_words(ln) for ln in lines if ln.startswith("@S")]
        if len(cal) != 2 or len(rows) != n or len(end) != 1:
            raise TargetError(f"{function} in simavr: expected {n} rows, got {len(rows)} "
                              f"(the firmware crashed or ran out of RAM?)")
        overhead = cal[0][0] + 65536 * cal[0][1]
        irq = (cal[1][0] + 65536 * cal[1][1] - 0xFFF0) - overhead - CALIBRATION_NOPS
        if cal[0][1:] != [0, 0] or cal[1][1:] != [1, 0] or not 0 < irq < 64:
            raise TargetError(f"AVR harness calibration failed: {cal}")
        table = np.array(rows, dtype=np.int64)
        ovf, late = table[:, -2], table[:, -1]
        ticks = table[:, -3] + 65536 * (ovf + late)
        cycles = ticks - ovf * irq - overhead
        vals = table[:, :-3].astype(np.uint32)
        if n_out:
            out = vals.view(np.float32).reshape(n, n_out)
        else:
            out = vals[:, 0].view(np.int32)
        used, room = end[0]
        self.overflow |= used >= room or used > 0xFFFF - 0x900  # the paint was overrun
        self.stack = max(self.stack, used)
        return cycles, out

    def shrink(self) -> None:
        """Nothing to give back (``Emulator`` interface)."""


def _fit_note(spec: TargetSpec, flash: int, ram: int, stack: int = 0) -> str | None:
    mm = spec.realistic
    if flash > mm.flash:
        return f"does not fit: {flash:,} B of flash > {mm.flash:,} ({mm.describe()})"
    if ram + stack > mm.ram:
        what = "static RAM + stack" if stack else "static RAM"
        return f"does not fit: {ram + stack:,} B of {what} > {mm.ram:,} ({mm.describe()})"
    return None


def measure_avr(c_dir: Path, name: str, X: np.ndarray, spec: TargetSpec, cache: Path,
                max_rows: int | None, progress: Any, function: str, seed: int,
                budget: int | None, labels: np.ndarray | None) -> Measurement:
    """The AVR branch of :func:`tinycodegen.targets.measure` (same arguments and result;
    ``budget`` counts cycles). A model that does not fit the part is sized, not run."""
    from tinycodegen.targets.measure import Measurement, check_features
    from tinycodegen.targets.rows import run_rows

    proba = function == "predict_proba"
    stub = build_avr(spec, None, None, cache, proba=proba, cap=1, sizing=True)
    size = build_avr(spec, c_dir, name, cache, proba=proba, cap=1, sizing=True)
    n_features, n_classes = shape(size.elf)
    check_features(n_features, X, name)
    mm = spec.realistic
    common = dict(target=spec.name, flash_bytes=size.flash - stub.flash,
                  ram_bytes=size.ram - stub.ram, instr_mean=None, instr_max=None,
                  cycles_range=None, cycle_model=CYCLE_MODEL, ns_per_inference=None)
    cap = min(MAX_BATCH, (mm.flash - size.flash) // (4 * n_features))
    note = _fit_note(spec, size.flash, size.ram + MIN_STACK)
    details = {"function": function, "image_flash": size.flash, "image_ram": size.ram,
               "stub_flash": stub.flash, "stub_ram": stub.ram, "realistic_map": mm.describe(),
               "simavr_batch": cap}
    if note is not None or cap < 1:
        fits = note is None
        note = note or (f"fits, not measured: {mm.flash - size.flash:,} B of flash left, one "
                        f"row of input needs {4 * n_features:,} B")
        return Measurement(stack_bytes=None, cycles_mean=None, cycles_max=None, rows=0,
                           sample_note=None, predictions=None, fits=fits, fit_note=note,
                           details=details, **common)
    image = build_avr(spec, c_dir, name, cache, proba=proba, cap=cap, sizing=False)
    runner = AvrRunner(image, spec.name, n_features, progress is True)
    if progress is True:
        print(f"{spec.name}: {name}_{function} in simavr ({cap} rows per run)", flush=True)
    res, idx, sample = run_rows(
        runner, c_dir, name, X, function=f"{name}_{function}",  # type: ignore[arg-type]
        n_out=n_classes if proba else 0, cache=cache, seed=seed, max_rows=max_rows,
        budget=budget, progress=progress if callable(progress) else None, labels=labels)
    if runner.overflow:  # outputs and cycles of a corrupted run are not figures
        note = (f"does not fit: the stack overflows the {mm.ram - size.ram:,} B of RAM left "
                f"beside {size.ram:,} B of static data ({mm.describe()})")
        return Measurement(stack_bytes=None, cycles_mean=None, cycles_max=None, rows=0,
                           sample_note=None, predictions=None, fits=False, fit_note=note,
                           details=details, **common)
    cyc = res.base_cycles
    note = _fit_note(spec, size.flash, size.ram, runner.stack)
    details.update(elf=str(image.elf), cflags=(*spec.cpu_flags, *AVR_CFLAGS))
    return Measurement(stack_bytes=runner.stack, cycles_mean=float(cyc.mean()),
                       cycles_max=int(cyc.max()), rows=len(cyc), sample_note=sample,
                       predictions=res.outputs, fits=note is None, fit_note=note,
                       row_indices=idx, details=details, **common)
