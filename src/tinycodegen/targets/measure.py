"""Flash, RAM, stack, instructions and cycles of a generated model per target."""

from __future__ import annotations

import keyword
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.errors import DataError
from tinycodegen.targets import cycles
from tinycodegen.targets.emulate import Emulator
from tinycodegen.targets.rows import Progress, run_rows
from tinycodegen.targets.sampling import stratified_sample
from tinycodegen.targets.toolchain import (
    TARGET_SPECS,
    TargetError,
    TargetSpec,
    check_target,
    default_cache_dir,
    find_cross_gcc,
    require_emulator,
)

FUNCTIONS = ("predict", "predict_proba")
_RESERVED = frozenset({"startup", "tcg_bench_glue", "tcg_host_bench", "tcg_stub"})
_EMULATORS: OrderedDict[tuple[str, str], Emulator] = OrderedDict()


@dataclass(frozen=True)
class Measurement:
    """What one model costs on one target.

    ``predictions`` are the emulator's (or host's) outputs for the measured rows
    (``row_indices`` into X when a sample was measured, else all rows): int32
    classes for ``predict``, (rows, n_classes) float32 for ``predict_proba``.
    ``cycles_*`` use the target's nominal refill penalty P (see ``cycle_model``);
    ``cycles_range`` is the mean at P=1 and at P=3.
    """

    target: str
    flash_bytes: int | None
    ram_bytes: int | None
    stack_bytes: int | None
    instr_mean: float | None  # None on AVR (simavr counts cycles, not instructions)
    instr_max: int | None
    cycles_mean: float | None
    cycles_max: int | None
    cycles_range: tuple[float, float] | None
    cycle_model: str
    rows: int
    sample_note: str | None
    predictions: np.ndarray | None = field(repr=False, compare=False)
    fits: bool
    fit_note: str | None
    ns_per_inference: float | None
    row_indices: np.ndarray | None = field(default=None, repr=False, compare=False)
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _check_inputs(name: str, X: np.ndarray, function: str, max_rows: int | None) -> np.ndarray:
    if not name.isidentifier() or keyword.iskeyword(name) or name in _RESERVED:
        raise TargetError(f"{name!r} cannot be a model name here (C identifier expected)")
    if function not in FUNCTIONS:
        raise TargetError(f"function must be one of {FUNCTIONS}, not {function!r}")
    if max_rows is not None and max_rows < 1:
        raise DataError(f"max_rows must be at least 1, not {max_rows}")
    try:
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise DataError(f"data is not a numeric matrix: {exc}") from exc
    if X.ndim != 2 or X.shape[0] == 0:
        raise DataError(f"data must be a non-empty (rows x features) matrix, got shape {X.shape}")
    return X


def check_features(n_features: int, X: np.ndarray, name: str) -> None:
    if X.shape[1] != n_features:
        raise DataError(f"{name} expects {n_features} features, the data has {X.shape[1]}")


def _emulator(elf: Path, spec: TargetSpec, cache: Path) -> Emulator:
    """One emulator (one Uc) per linked image, reused across calls (small LRU)."""
    key = (str(elf), spec.name)
    em = _EMULATORS.pop(key, None) or Emulator(elf, spec.core, spec.uc_cpu, cache)
    _EMULATORS[key] = em
    while len(_EMULATORS) > 4:
        _EMULATORS.popitem(last=False)
    em.clear_stack()
    return em


def cycle_model_text(core: str) -> str:
    p = cycles.DEFAULT_P[core]
    trm = "Cortex-M4 TRM tables 3-1/7-1" if core == "m4" else "Cortex-M0+ TRM table 3-1"
    return f"{trm}, zero wait states, refill P={p} (range P=1..3)"


def _fit(spec: TargetSpec, flash_total: int, ram_total: int) -> tuple[bool, str | None]:
    mm = spec.realistic
    if flash_total > mm.flash:
        return False, f"does not fit ({flash_total} bytes > {mm.flash}): flash of {mm.describe()}"
    if ram_total > mm.ram:
        return False, (
            f"does not fit ({ram_total} bytes > {mm.ram}): RAM incl. stack of {mm.describe()}"
        )
    return True, None


def _measure_mcu(
    c_dir: Path,
    name: str,
    X: np.ndarray,
    spec: TargetSpec,
    cache: Path,
    max_rows: int | None,
    progress: bool | Progress,
    function: str,
    seed: int,
    budget: int | None = None,
    labels: np.ndarray | None = None,
) -> Measurement:
    from tinycodegen.targets.build import link_or_grow

    find_cross_gcc()
    require_emulator()
    stub = link_or_grow(spec, None, None, cache)
    image = link_or_grow(spec, c_dir, name, cache)
    em = _emulator(image.elf, spec, cache)
    entry = em.address("tcg_bench_entry")
    n_features, n_classes = em.read_u32(entry + 8, 2)
    check_features(n_features, X, name)
    if progress is True:
        print(f"{spec.name}: {name}_{function}", flush=True)
    res, idx, note = run_rows(
        em, c_dir, name, X, function=f"{name}_{function}",
        n_out=n_classes if function == "predict_proba" else 0, cache=cache, seed=seed,
        max_rows=max_rows, budget=budget, progress=progress if callable(progress) else None,
        labels=labels,
    )
    p = cycles.DEFAULT_P[spec.core]
    cyc = res.cycles(p)
    stack = em.stack_peak()
    fits, fit_note = _fit(spec, image.sizes.flash, image.sizes.ram + stack)
    details = {
        "function": function,
        "p": p,
        "cycles_max_range": (int(res.cycles(1).max()), int(res.cycles(3).max())),
        "image_flash": image.sizes.flash,
        "image_ram": image.sizes.ram,
        "stub_flash": stub.sizes.flash,
        "stub_ram": stub.sizes.ram,
        "sections": image.sizes.sections,
        "memory_map": image.memory_map.describe(),
        "realistic_map": spec.realistic.describe(),
        "libc": image.libc,
        "cflags": image.cflags,
        "elf": str(image.elf),
        "native_tracer": em.tracer.native,
        "unpriced": sorted(em.unpriced),
        "hot_functions": em.hot_functions(),
    }
    return Measurement(
        target=spec.name,
        flash_bytes=image.sizes.flash - stub.sizes.flash,
        ram_bytes=image.sizes.ram - stub.sizes.ram,
        stack_bytes=stack,
        instr_mean=float(res.instructions.mean()),
        instr_max=int(res.instructions.max()),
        cycles_mean=float(cyc.mean()),
        cycles_max=int(cyc.max()),
        cycles_range=(float(res.cycles(1).mean()), float(res.cycles(3).mean())),
        cycle_model=cycle_model_text(spec.core),
        rows=len(res.instructions),
        sample_note=note,
        predictions=res.outputs,
        fits=fits,
        fit_note=fit_note,
        ns_per_inference=None,
        row_indices=idx,
        details=details,
    )


def _measure_host(
    c_dir: Path,
    name: str,
    X: np.ndarray,
    cache: Path,
    max_rows: int | None,
    progress: bool,
    function: str,
    seed: int,
) -> Measurement:
    from tinycodegen.targets import host
    from tinycodegen.targets.toolchain import find_valgrind

    find_valgrind()
    exe = host.build_host(c_dir, name, cache)
    n_features, n_classes = host.host_shape(exe)
    check_features(n_features, X, name)
    labels = host.host_outputs(exe, X)
    idx = None if max_rows is None or max_rows >= len(X) else stratified_sample(labels, max_rows)
    rows = X if idx is None else X[idx]
    row_labels = labels if idx is None else labels[idx]
    if progress is True:
        print(f"host: {name}_{function} on {len(rows)} rows (callgrind)", flush=True)
    counted = None
    if len(rows) > host.MAX_ROWS_PER_CALL:
        counted = stratified_sample(row_labels, host.MAX_ROWS_PER_CALL, seed)
    per_call = host.callgrind_per_call(
        exe, name, rows if counted is None else rows[counted], function
    )
    outputs = row_labels
    if function == "predict_proba":
        outputs = host.host_outputs(exe, rows, n_classes)
    notes = [] if idx is None else [f"sample of {len(rows)} of {len(X)} rows (seed {seed})"]
    if counted is not None:
        notes.append(f"instructions counted on {counted.size} of {len(rows)} rows")
    return Measurement(
        target="host",
        flash_bytes=None,
        ram_bytes=None,
        stack_bytes=None,
        instr_mean=float(per_call.mean()),
        instr_max=int(per_call.max()),
        cycles_mean=None,
        cycles_max=None,
        cycles_range=None,
        cycle_model=f"host: callgrind instructions (Ir) of {name}_{function} incl. callees, "
        "gcc -O2; ns_per_inference times NAME_predict",
        rows=len(rows),
        sample_note="; ".join(notes) or None,
        predictions=outputs,
        fits=True,
        fit_note=None,
        ns_per_inference=host.host_ns_per_inference(exe, rows),
        row_indices=idx,
        details={"function": function, "exe": str(exe), "cflags": host.HOST_CFLAGS},
    )


def measure(
    c_dir: Path,
    name: str,
    X: np.ndarray,
    target: str,
    *,
    cache_dir: Path | None = None,
    max_rows: int | None = None,
    progress: bool | Progress = False,
    function: str = "predict",
    seed: int = 0,
    budget: int | None = None,
    labels: np.ndarray | None = None,
) -> Measurement:
    """Measure model ``name`` (``c_dir/NAME.{h,c}``) on ``target`` over the rows of X.

    ``max_rows`` measures a fixed seeded sample stratified by predicted class
    instead of every row (``sample_note`` says so).  ``function`` chooses
    ``NAME_predict`` (default) or ``NAME_predict_proba``.  ``budget`` (MCU targets):
    emulate a prefix of a fixed stratified row order until this many instructions have
    run (see :mod:`tinycodegen.targets.rows`); ``progress`` may be a callable(done, total).
    On ``atmega328p`` the figures come from simavr (see :mod:`tinycodegen.targets.avr_measure`)
    and ``budget`` counts cycles.
    ``labels``: a class per row of X to stratify samples by (default: the host build's
    predictions, which costs a host run).
    """
    check_target(target)
    c_dir = Path(c_dir)
    X = _check_inputs(name, X, function, max_rows)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if target == "host":
        return _measure_host(c_dir, name, X, cache, max_rows, progress, function, seed)
    spec = TARGET_SPECS[target]
    if spec.core == "avr":
        from tinycodegen.targets.avr_measure import measure_avr

        return measure_avr(c_dir, name, X, spec, cache, max_rows, progress, function, seed,
                           budget, labels)
    return _measure_mcu(c_dir, name, X, spec, cache, max_rows, progress, function, seed, budget,
                        labels)
