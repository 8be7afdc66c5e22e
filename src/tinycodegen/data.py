"""Turning a ``--data`` argument into rows for the C (float32) and for sklearn."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.errors import DataError, FeatureNamesError


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
        X_sk, X = nsl_kdd_rows(ds, model)
        return Rows(X=X, X_sklearn=X_sk, y=ds.y, label=f"{spec} ({ds.path.name})")
    p = Path(spec)
    if not p.is_file():
        raise DataError(f"data {spec!r}: not a file, and not nsl-kdd:<train|train20|test|test21>")
    if p.suffix == ".csv":  # strict: see data_csv.py
        from tinycodegen.data_csv import read_csv

        text = {c.index for c in _categorical(model) if c.values.dtype.kind not in "fiub"}
        X_sk = read_csv(p, model, text)
        return Rows(X=model_input(model, X_sk), X_sklearn=X_sk, y=None, label=str(p))
    if p.suffix != ".npy":
        raise DataError(f"data {spec!r}: use a .npy or .csv file")
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"data {spec!r} cannot be read: {exc}") from None
    arr = np.atleast_2d(arr)
    X_sk = arr.astype(np.float32).astype(np.float64)
    return Rows(X=model_input(model, X_sk), X_sklearn=X_sk, y=None, label=str(p))


def nsl_kdd_rows(ds: Any, model: Any) -> tuple[Any, np.ndarray]:
    """(what sklearn's predict takes, the float32 C input) for one NSL-KDD split.

    A model fitted on a DataFrame gets one (string categoricals where its encoders have string
    categories); its numeric columns hold the float32 values the C gets, widened to float64, so
    both sides see the same numbers. The C input codes each encoded column by its encoder.
    """
    from tinycodegen.datasets.nsl_kdd import CATEGORICAL, FEATURE_NAMES

    names = getattr(model, "feature_names_in_", None)
    if names is None or not set(map(str, names)) <= set(FEATURE_NAMES):
        X_sk = ds.X.astype(np.float64)
        return X_sk, model_input(model, X_sk)
    import pandas as pd

    strings = any(c.values.dtype.kind not in "fiub" for c in _categorical(model))
    frame = pd.DataFrame(ds.X.astype(np.float64), columns=list(FEATURE_NAMES))
    if strings:
        raw = ds.frame()
        for col in CATEGORICAL:
            frame[col] = raw[col]
    X_sk = frame[[str(n) for n in names]]
    return X_sk, model_input(model, X_sk)


def frame_input(model: Any, X: Any) -> Any:
    """What ``CompiledModel`` gives the C for ``X``: an array is already the C's input; a
    pandas DataFrame holds what sklearn's predict takes and is converted by :func:`model_input`.

    Its columns are checked as sklearn checks them, with one difference: a model fitted with
    feature names takes the columns *by name*, in any order (sklearn raises for a reordered
    DataFrame, except behind a ColumnTransformer). Unknown or missing names raise sklearn's
    ValueError (``FeatureNamesError``); names given to a model fitted without them, or no names
    given to one fitted with them, give sklearn's UserWarning and the columns in order.
    """
    if not (hasattr(X, "columns") and hasattr(X, "iloc")):
        return X
    from sklearn.utils.validation import _get_feature_names

    given = _get_feature_names(X)  # sklearn's TypeError for mixed str / non-str names
    fitted = getattr(model, "feature_names_in_", None)
    cls = type(model).__name__
    if fitted is None:
        if given is not None:
            warnings.warn(f"X has feature names, but {cls} was fitted without feature names",
                          UserWarning, stacklevel=3)
        return model_input(model, X)
    fitted = [str(n) for n in fitted]
    if given is None:
        warnings.warn(f"X does not have valid feature names, but {cls} was fitted with "
                      f"feature names", UserWarning, stacklevel=3)
        return model_input(model, X.set_axis(fitted, axis=1) if X.shape[1] == len(fitted)
                           else X.to_numpy())
    names = [str(n) for n in given]
    missing = sorted(set(fitted) - set(names))  # sorted, as sklearn lists them
    if _column_transformer_first(model):  # sklearn selects columns by name, extra ones too
        if missing:
            raise FeatureNamesError(f"columns are missing: {set(missing)}")
    else:
        unseen = sorted(set(names) - set(fitted))
        if unseen or missing:
            raise FeatureNamesError(
                "The feature names should match those that were passed during fit.\n"
                + ("Feature names unseen at fit time:\n" + _listed(unseen) if unseen else "")
                + ("Feature names seen at fit time, yet now missing:\n" + _listed(missing)
                   if missing else ""))
    return model_input(model, X[fitted])


def _listed(names: list[str]) -> str:
    shown = [f"- {n}\n" for n in names[:5]]
    return "".join(shown) + ("- ...\n" if len(names) > 5 else "")


def _column_transformer_first(model: Any) -> bool:
    from tinycodegen.core.classes import is_sklearn

    return is_sklearn(model, "Pipeline") and is_sklearn(model.steps[0][1], "ColumnTransformer")


def _categorical(model: Any) -> tuple[Any, ...]:
    if model is None:
        return ()
    from tinycodegen.families.pipeline.loader import categorical_inputs

    return categorical_inputs(model)


def model_input(model: Any, X: Any) -> np.ndarray:
    """The float32 vector the C takes for rows of what sklearn takes (array or DataFrame).

    Columns a pipeline's encoders read become the index of the value in the encoder's
    ``categories_`` (-1 if unseen; NaN, which the C rejects, for +-inf in a numeric categorical
    column, which sklearn rejects too); every other column is its value as float32.
    """
    cats = {c.index: c for c in _categorical(model)}
    names = getattr(model, "feature_names_in_", None)
    if hasattr(X, "iloc") and names is not None:
        X = X[[str(n) for n in names]]
    if not cats:
        try:
            return np.ascontiguousarray(np.asarray(X, dtype=np.float64), dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise DataError(f"data is not numeric: {exc}") from None
    out = np.empty(np.shape(X), dtype=np.float32)
    for j in range(out.shape[1]):
        col = np.asarray(X.iloc[:, j] if hasattr(X, "iloc") else np.asarray(X)[:, j])
        try:
            out[:, j] = _codes(cats[j].values, col) if j in cats else col.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"data column {j}: {exc}") from None
    return out


def _codes(categories: np.ndarray, col: np.ndarray) -> np.ndarray:
    import pandas as pd

    if categories.dtype.kind in "fiub":
        v = col.astype(np.float64)
        idx = pd.Index(categories.astype(np.float64)).get_indexer(v).astype(np.float64)
        idx[np.isinf(v)] = np.nan
        return idx
    return pd.Index(categories, dtype=object).get_indexer(col.astype(object)).astype(np.float64)


def sklearn_input(model: Any, X: np.ndarray) -> Any:
    """The inverse of :func:`model_input` for valid codes: what sklearn's predict takes for
    float32 C input rows (code -1 becomes a value the encoder never saw). Codes the C rejects
    as invalid have no sklearn counterpart (they become NaN)."""
    X = np.asarray(X, dtype=np.float32)
    cats = {c.index: c for c in _categorical(model)}
    cols: list[np.ndarray] = []
    for j in range(X.shape[1]):
        v = X[:, j].astype(np.float64)
        if j in cats:
            from tinycodegen.families.pipeline.steps import unseen_value

            values = cats[j].values
            ok = np.isfinite(v) & (v == np.floor(v)) & (v >= -1) & (v < len(values))
            code = np.where(ok, v, -1).astype(np.int64)
            lut = np.asarray([unseen_value(values), *values.tolist()], dtype=object)
            col = lut[code + 1]
            col[~ok] = np.nan
            if values.dtype.kind in "fiub":
                col = col.astype(np.float64)
            cols.append(col)
        else:
            cols.append(v)
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        return pd.DataFrame({str(n): c for n, c in zip(names, cols, strict=True)})
    if all(c.dtype == np.float64 for c in cols):
        return np.column_stack(cols) if cols else np.zeros((len(X), 0))
    return np.column_stack(cols).astype(object)
