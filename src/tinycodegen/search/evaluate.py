"""One candidate, start to finish, wherever it runs (a local process or a Dask worker): train on
the search's training split, compile, score the C on the validation split, measure the target."""

from __future__ import annotations

import os
import socket
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinycodegen.search.space import MAX_TRAIN_ROWS, Candidate, build


@dataclass(frozen=True)
class SearchData:
    """float32 rows in the C's input format (the NSL-KDD loader's codes) and 0/1 labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    note: str  # how the splits were made, printed in the report


def where() -> str:
    """The Dask worker's address when run by one, else this host and process."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local:{socket.gethostname()}:{os.getpid()}"


def fit(c: Candidate, X: np.ndarray, y: np.ndarray) -> Any:
    """The candidate fitted on X, y (a seeded stratified subsample where MAX_TRAIN_ROWS says)."""
    cap = MAX_TRAIN_ROWS.get(c.family)
    if cap is not None and cap < len(y):
        from sklearn.model_selection import train_test_split

        idx, _ = train_test_split(np.arange(len(y)), train_size=cap, stratify=y, random_state=0)
        X, y = X[np.sort(idx)], y[np.sort(idx)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the small grids
        return build(c).fit(X.astype(np.float64), y)


def evaluate(c: Candidate, data: SearchData, target: str, measure_rows: int) -> dict[str, Any]:
    """A result dict (the cache's JSON) plus the fitted model under "_fitted" (not cached as
    JSON). Errors are results too: {"error": ...} (the search reports them, never stops)."""
    import tinycodegen
    from tinycodegen.errors import TinycodegenError
    from tinycodegen.report.collect import model_dir
    from tinycodegen.study.metrics import binary_metrics
    from tinycodegen.study.run import c_outputs
    from tinycodegen.targets import measure

    t0 = time.perf_counter()
    out: dict[str, Any] = {**c.to_dict(), "label": c.label, "worker": where()}
    try:
        model = fit(c, data.X_train, data.y_train)
        out["train_s"] = round(time.perf_counter() - t0, 3)
        q = None if c.quantize == "none" else c.quantize
        opt = None if c.optimize == "none" else c.optimize
        compiled = tinycodegen.compile(model, name="candidate", quantize=q, optimize=opt)
        pred, score = c_outputs(compiled, data.X_val)
        out["validation"] = {k: float(v) for k, v in
                             binary_metrics(data.y_val, pred, score).items()}
        sk = np.asarray(model.predict(data.X_val.astype(np.float64))).astype(int)
        out["differs_from_library"] = int((sk != pred).sum())  # 0 unless quantized
        m = measure(model_dir(compiled), compiled.name, data.X_val, target,
                    max_rows=measure_rows, labels=pred)
        out.update(flash=m.flash_bytes, ram=m.ram_bytes, stack=m.stack_bytes,
                   cycles=m.cycles_mean, cycles_max=m.cycles_max, fits=m.fits,
                   measured_rows=m.rows)
        out["_fitted"] = model
    except (TinycodegenError, ValueError, MemoryError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out
