"""Parity: the compiled C against sklearn (and against the IR's reference), row for row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tinycodegen.api import CompiledModel


@dataclass
class CheckReport:
    name: str
    backend: str
    estimator: str
    data: str
    rows: int
    mismatches: int  # C predict vs sklearn predict
    proba_mismatches: int | None  # rows whose C proba != float32(sklearn proba)
    proba_max_abs_diff: float | None
    rejected_rows: int  # rows the C answered -1 for
    reference_mismatches: int | None  # C vs the IR reference evaluator (native backends)
    fallback_rows: int | None  # rows decided by the exact (slow) path
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and not self.reference_mismatches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        lines = [
            f"model      {self.name} ({self.estimator}), backend {self.backend}",
            f"data       {self.data}",
            f"rows       {self.rows}",
            f"mismatches {self.mismatches}",
        ]
        if self.proba_mismatches is not None:
            lines.append(
                f"proba      {self.proba_mismatches} rows differ from float32(sklearn), "
                f"max |diff| {self.proba_max_abs_diff:.3g}"
            )
        if self.reference_mismatches is not None:
            lines.append(
                f"reference  {self.reference_mismatches} rows differ from the IR reference"
            )
        if self.fallback_rows is not None:
            pct = 100.0 * self.fallback_rows / max(self.rows, 1)
            lines.append(f"fallback   {self.fallback_rows} rows took the exact path ({pct:.2f}%)")
        if self.rejected_rows:
            lines.append(f"rejected   {self.rejected_rows} rows (NaN/inf input) returned -1")
        for ex in self.examples:
            lines.append(
                f"  row {ex['row']}: C {ex['c']!r}, sklearn {ex['sklearn']!r}, "
                f"sklearn proba {ex.get('sklearn_proba')}"
            )
        lines.append("PASS" if self.ok else "FAIL")
        return "\n".join(lines)


def sklearn_index(model: Any, X_sk: Any, X32: np.ndarray) -> np.ndarray:
    """sklearn's predicted class index per row; -1 where sklearn rejects the row."""
    classes = list(np.asarray(model.classes_).tolist())
    lookup = {c: i for i, c in enumerate(classes)}
    finite = np.isfinite(X32).all(axis=1)
    out = np.full(X32.shape[0], -1, dtype=np.int32)
    try:
        labels = model.predict(X_sk)
        return np.asarray([lookup[v] for v in np.asarray(labels).tolist()], dtype=np.int32)
    except ValueError:
        pass
    idx = np.flatnonzero(finite)
    if len(idx):
        labels = model.predict(_take(X_sk, idx))
        out[idx] = [lookup[v] for v in np.asarray(labels).tolist()]
    for i in np.flatnonzero(~finite):
        try:
            out[i] = lookup[np.asarray(model.predict(_take(X_sk, [i]))).tolist()[0]]
        except ValueError:
            out[i] = -1
    return out


def _take(X: Any, idx: Any) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def check(compiled: CompiledModel, X: np.ndarray, *, X_sklearn: Any = None, data: str = "data",
          max_examples: int = 5) -> CheckReport:
    """Run every row through the C and through sklearn; count every difference."""
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X_sk = X32.astype(np.float64) if X_sklearn is None else X_sklearn
    model = compiled.model
    c_idx = compiled.predict_index(X32)
    sk_idx = sklearn_index(model, X_sk, X32)
    diff = np.flatnonzero(c_idx != sk_idx)
    proba_mm = proba_diff = None
    sk_proba = None
    ok_rows = sk_idx >= 0
    if hasattr(model, "predict_proba") and ok_rows.any():
        try:
            sk_proba = np.full((len(X32), len(model.classes_)), np.nan)
            sk_proba[ok_rows] = model.predict_proba(_take(X_sk, np.flatnonzero(ok_rows)))
        except (AttributeError, ValueError):
            sk_proba = None
    if sk_proba is not None:
        c_proba = compiled.predict_proba(X32)
        want = sk_proba[ok_rows].astype(np.float32)
        got = c_proba[ok_rows]
        proba_mm = int((got != want).any(axis=1).sum())
        proba_diff = float(np.abs(got.astype(np.float64) - want).max()) if len(want) else 0.0
    ref_mm = fallback = None
    if compiled.ir is not None:
        ref = compiled.ir.reference(X32)
        ref_mm = int((ref.predict != c_idx).sum())
        if ref.fallback is not None:
            fallback = int(ref.fallback.sum())
    classes = np.asarray(model.classes_).tolist()
    examples = []
    for i in diff[:max_examples]:
        examples.append({
            "row": int(i),
            "c": classes[c_idx[i]] if c_idx[i] >= 0 else -1,
            "sklearn": classes[sk_idx[i]] if sk_idx[i] >= 0 else "rejected",
            "sklearn_proba": None if sk_proba is None else [float(v) for v in sk_proba[i]],
        })
    return CheckReport(
        name=compiled.name,
        backend=compiled.backend,
        estimator=type(model).__name__,
        data=data,
        rows=int(len(X32)),
        mismatches=int(len(diff)),
        proba_mismatches=proba_mm,
        proba_max_abs_diff=proba_diff,
        rejected_rows=int((c_idx < 0).sum()),
        reference_mismatches=ref_mm,
        fallback_rows=fallback,
        examples=examples,
    )
