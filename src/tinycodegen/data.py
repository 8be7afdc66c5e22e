"""Turning a ``--data`` argument into rows for the C (float32) and for sklearn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.errors import DataError


@dataclass(frozen=True)
class Rows:
    X: np.ndarray  # float32 rows for the C
    X_sklearn: Any  # what sklearn's predict takes (float64 array or a DataFrame)
    y: np.ndarray | None
    label: str


def load_rows(spec: str, model: Any = None, labels: str = "binary") -> Rows:
    """``nsl-kdd:<split>``, or a ``.npy`` / ``.csv`` file of numeric rows."""
    if spec.startswith("nsl-kdd:"):
        from tinycodegen.datasets.nsl_kdd import resolve_spec

        ds = resolve_spec(spec, labels=labels)
        X_sk: Any = ds.X.astype(np.float64)
        if model is not None and _wants_frame(model):
            X_sk = ds.frame()
        X = model_input(model, ds.X)
        return Rows(X=X, X_sklearn=X_sk, y=ds.y, label=f"{spec} ({ds.path.name})")
    p = Path(spec)
    if not p.is_file():
        raise DataError(f"data {spec!r}: not a file, and not nsl-kdd:<train|train20|test|test21>")
    try:
        if p.suffix == ".npy":
            arr = np.load(p, allow_pickle=False)
        elif p.suffix == ".csv":
            arr = np.genfromtxt(p, delimiter=",", dtype=np.float64)
            if arr.ndim == 2 and np.isnan(arr[0]).all():
                arr = arr[1:]  # header row
        else:
            raise DataError(f"data {spec!r}: use a .npy or .csv file")
    except (OSError, ValueError) as exc:
        raise DataError(f"data {spec!r} cannot be read: {exc}") from None
    arr = np.atleast_2d(arr)
    X = arr.astype(np.float32)
    return Rows(X=X, X_sklearn=X.astype(np.float64), y=None, label=str(p))


def _wants_frame(model: Any) -> bool:
    """Pipelines fitted on a DataFrame with string columns take the raw frame."""
    names = getattr(model, "feature_names_in_", None)
    return names is not None and getattr(model, "_tcg_wants_frame", None) is not False and (
        hasattr(model, "steps") or hasattr(model, "transformers_")
    )


def model_input(model: Any, X: np.ndarray) -> np.ndarray:
    """The float32 vector the C takes for NSL-KDD rows (loader-specific adapters hook in here)."""
    return np.ascontiguousarray(X, dtype=np.float32)
