"""Measure every (model, backend, target): compile once per model and backend, check parity on
the host, then measure each target and verify the emulated predictions against the host C."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tinycodegen
from tinycodegen.build import cache_root, source_hash
from tinycodegen.check import check
from tinycodegen.errors import TinycodegenError


def build_label(backend: str, quantize: str | None) -> str:
    """A build as rows and progress lines name it: the layout, then its quantization."""
    return f"{backend} {quantize}" if quantize else backend


@dataclass
class ReportRow:
    model: str
    estimator: str
    backend: str  # the layout (native) or comparison tool
    target: str
    mismatches: int | None = None  # host C vs sklearn over all rows given
    quantize: str | None = None  # "int8" / "int16": a quantized build of ``backend``'s layout
    reference_mismatches: int | None = None  # quantized: host C vs its own reference
    rows: int = 0
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    stack_bytes: int | None = None
    instr_mean: float | None = None
    instr_max: int | None = None
    cycles_mean: float | None = None
    cycles_max: int | None = None
    cycles_range: tuple[float, float] | None = None
    cycle_model: str | None = None
    ns_per_inference: float | None = None
    measured_rows: int | None = None
    sample_note: str | None = None
    emulator_agrees: bool | None = None  # the target's predictions == host C on those rows
    fits: bool | None = None
    note: str | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def build(self) -> str:
        """The backend as a reader sees it: layout and quantization ("speed int8")."""
        return build_label(self.backend, self.quantize)

    def promise_mismatches(self) -> int | None:
        """Mismatches against what the build promises: sklearn, or a quantized build's own
        reference."""
        return self.reference_mismatches if self.quantize else self.mismatches

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_BUDGET = 40_000_000  # emulated instructions per (model, backend, MCU target)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def bar(head: str) -> Callable[[int, int], None]:
    """A one-line progress bar on stderr, redrawn in place (on a terminal only)."""
    tty = sys.stderr.isatty()

    def show(done: int, total: int) -> None:
        if tty:
            filled = int(20 * done / max(total, 1))
            print(f"\r{head} [{'#' * filled}{'.' * (20 - filled)}] {done:,}/{total:,} rows",
                  end="", file=sys.stderr, flush=True)

    return show


def done_line(head: str, row: ReportRow) -> None:
    sample = f" ({row.sample_note})" if row.sample_note else ""
    tty = sys.stderr.isatty()
    start, end = ("\r", " " * 20) if tty else ("", "")
    print(f"{start}{head}: {row.measured_rows:,} rows in {row.seconds:.1f} s{sample}{end}",
          file=sys.stderr, flush=True)


def model_dir(compiled: tinycodegen.CompiledModel) -> Path:
    """A folder holding the model's files, reused across runs by content hash."""
    folder = cache_root() / "report" / source_hash(compiled.source)
    if not (folder / compiled.source.c_file).is_file():
        compiled.write(folder)
    return folder


def collect(models: list[tuple[str, Any]], X: np.ndarray, *, X_sklearn: Any = None,
            targets: tuple[str, ...] = ("cortex-m4f", "cortex-m0plus", "host"),
            backends: tuple[str, ...] = ("table", "emlearn", "m2cgen"),
            max_rows: dict[str, int | None] | None = None, quantize: str | None = None,
            budget: int | None = DEFAULT_BUDGET, backends_for: Callable[[Any], tuple[str, ...]]
            | None = None, calibration: dict[str, np.ndarray] | None = None) -> list[ReportRow]:
    """One row per (model, backend, target). A backend that cannot take a model gives rows
    noted "n/a: why"; a missing tool or failed measurement leaves the figures empty with a note.
    ``budget``: emulated instructions per MCU measurement before the rows become a sample
    (see tinycodegen.targets.rows; None runs every row); every backend of a model uses the
    row order stratified by the first backend's predictions, so a smaller sample is a prefix
    of a larger one. ``backends_for(model)`` narrows ``backends`` per model. Parity here is
    class mismatches against sklearn (no probability comparison: ``check``). ``quantize``
    ("int8" / "int16"): the native backends compile the quantized model, in every layout its
    quantized kind has (rows labelled e.g. "speed int8", also compared with their reference);
    the comparison tools stay float; ``calibration``: model label -> training rows for the
    quantizers that take them (linear models, MLPs)."""
    from tinycodegen.families.registry import native_backends
    from tinycodegen.targets import measure

    X = np.ascontiguousarray(X, dtype=np.float32)
    rows: list[ReportRow] = []
    jobs = []
    for label, m in models:
        have = _layouts(m, quantize, (calibration or {}).get(label))
        jobs += [(label, m, b) for b in (backends if backends_for is None else backends_for(m))
                 if _has(b, have, quantize)]
    order_labels: dict[str, np.ndarray] = {}  # one row order per model: comparable samples
    for j, (label, model, backend) in enumerate(jobs, 1):
        q = quantize if backend in native_backends() else None
        head = f"[{j}/{len(jobs)}] {label} / {build_label(backend, q)}"
        est = type(model).__name__
        try:
            compiled = tinycodegen.compile(model, name=_c_name(label), backend=backend,
                                           quantize=q, calibration=(calibration or {}).get(label)
                                           if q else None)
            host_pred = compiled.predict_index(X)
            parity = check(compiled, X, X_sklearn=X_sklearn, c_index=host_pred, proba=False,
                           reference=q is not None)
        except (TinycodegenError, ImportError) as exc:
            why = (f"{exc.name} is not installed (pip install {exc.name})"
                   if isinstance(exc, ImportError) and exc.name else str(exc))
            progress(f"{head}: n/a ({why})")
            rows += [ReportRow(model=label, estimator=est, backend=backend, target=t,
                               quantize=q, note=f"n/a: {why}") for t in targets]
            continue
        folder = model_dir(compiled)
        strata = order_labels.setdefault(label, host_pred)
        for target in targets:
            t0 = time.perf_counter()
            row = ReportRow(model=label, estimator=est, backend=backend, target=target,
                            mismatches=parity.mismatches, rows=parity.rows, quantize=q,
                            reference_mismatches=parity.reference_mismatches)
            try:
                m = measure(folder, compiled.name, X, target, progress=bar(f"{head} / {target}"),
                            max_rows=(max_rows or {}).get(target),
                            budget=None if target == "host" else budget, labels=strata)
            except TinycodegenError as exc:  # missing tool, emulation fault: noted, not fatal
                progress(f"{head} / {target}: {exc}")
                row.note = str(exc)
                rows.append(row)
                continue
            _fill(row, m, host_pred)
            row.seconds = time.perf_counter() - t0
            done_line(f"{head} / {target}", row)
            rows.append(row)
    return rows


def _layouts(model: Any, quantize: str | None, calibration: Any = None) -> list[str] | None:
    """The native layouts of the IR kind ``compile`` emits for ``model`` (quantized first when
    ``quantize`` is given), from the registry; a kind that refuses quantization gives its float
    layouts (their rows say why); None when the model does not load (every row says why)."""
    from tinycodegen.families.registry import native_backends
    from tinycodegen.lower import load, load_quantized

    try:
        return native_backends(load_quantized(model, quantize, calibration).kind)
    except TinycodegenError:
        if quantize is None:
            return None
    try:
        return native_backends(load(model).kind)
    except TinycodegenError:
        return None


def _has(backend: str, layouts: list[str] | None, quantize: str | None) -> bool:
    """False for a native layout the model's kind does not have (float: ``speed`` / ``size``,
    the tree layouts; quantized: any native backend its quantized kind lacks): such rows are
    left out rather than reported as n/a. Comparison tools are always kept."""
    from tinycodegen.families.registry import OPTIMIZE_MODES, native_backends

    if layouts is None or backend not in native_backends():
        return True
    if quantize is None and backend not in OPTIMIZE_MODES:
        return True
    return backend in layouts


def _fill(row: ReportRow, m: Any, host_pred: np.ndarray) -> None:
    for name in ("flash_bytes", "ram_bytes", "stack_bytes", "instr_mean", "instr_max",
                 "cycles_mean", "cycles_max", "cycles_range", "cycle_model", "ns_per_inference",
                 "sample_note", "fits"):
        setattr(row, name, getattr(m, name))
    row.measured_rows = m.rows
    if m.fit_note:
        row.note = m.fit_note
    if m.predictions is not None:
        idx = m.row_indices if m.row_indices is not None else np.arange(len(host_pred))
        row.emulator_agrees = bool(np.array_equal(np.asarray(m.predictions), host_pred[idx]))


def _c_name(label: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
    return out if out and not out[0].isdigit() else f"m_{out}"
