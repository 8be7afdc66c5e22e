"""Parity: the compiled C against sklearn (and against the IR's reference), row for row."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tinycodegen.api import CompiledModel
from tinycodegen.core.detect import estimator_classes, is_detector


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
    # Quantized models (compile(..., quantize=)): pass/fail is C vs the quantized reference
    # (predict and proba, bit-exact); ``mismatches`` still counts C vs the float sklearn model.
    quantize: str | None = None
    reference_proba_mismatches: int | None = None  # quantized: C proba != reference proba
    accuracy_c: float | None = None  # when labels are known; rejected rows count as wrong
    accuracy_sklearn: float | None = None
    notes: list[str] = field(default_factory=list)
    # Detectors: rows whose C decision_function / score_samples != float32(sklearn's)
    score_mismatches: dict[str, int] | None = None

    @property
    def ok(self) -> bool:
        if self.quantize:
            return self.reference_mismatches == 0 and self.reference_proba_mismatches in (0, None)
        return self.mismatches == 0 and not self.reference_mismatches

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        quant = f", quantized {self.quantize}" if self.quantize else ""
        lines = [
            f"model      {self.name} ({self.estimator}), backend {self.backend}{quant}",
            f"data       {self.data}",
            f"rows       {self.rows}",
            f"mismatches {self.mismatches}",
        ]
        if self.quantize:
            lines[-1] += (" rows where the C differs from the float sklearn model (quantization;"
                          " reported, not a failure)")
        if self.proba_mismatches is not None:
            lines.append(
                f"proba      {self.proba_mismatches} rows differ from float32(sklearn), "
                f"max |diff| {self.proba_max_abs_diff:.3g}"
            )
        for fn, n in (self.score_mismatches or {}).items():
            lines.append(f"{fn[:10]:<10} {n} rows differ from float32(sklearn)")
        if self.reference_mismatches is not None:
            lines.append(
                f"reference  {self.reference_mismatches} rows differ from the IR reference"
            )
        if self.reference_proba_mismatches is not None:
            lines[-1] += f" ({self.reference_proba_mismatches} in predict_proba, bit-exact)"
        if self.accuracy_c is not None and self.accuracy_sklearn is not None:
            lines.append(
                f"accuracy   C {self.accuracy_c:.6f}, sklearn {self.accuracy_sklearn:.6f} "
                f"(C - sklearn {self.accuracy_c - self.accuracy_sklearn:+.6f})"
            )
        lines += [f"note       {n}" for n in self.notes]
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
    classes = list(estimator_classes(model).tolist())
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
        try:
            labels = model.predict(_take(X_sk, idx))
            out[idx] = [lookup[v] for v in np.asarray(labels).tolist()]
        except ValueError:  # finite rows sklearn rejects (e.g. an unseen category)
            _predict_halves(model, X_sk, idx, lookup, out)
    for i in np.flatnonzero(~finite):
        try:
            out[i] = lookup[np.asarray(model.predict(_take(X_sk, [i]))).tolist()[0]]
        except ValueError:
            out[i] = -1
    return out


def _predict_halves(model: Any, X_sk: Any, idx: np.ndarray, lookup: dict, out: np.ndarray
                    ) -> None:
    """Predict rows ``idx``, splitting in halves where sklearn raises (such a row stays -1)."""
    half = len(idx) // 2
    for part in (idx[:half], idx[half:]):
        if not len(part):
            continue
        try:
            labels = model.predict(_take(X_sk, part))
            out[part] = [lookup[v] for v in np.asarray(labels).tolist()]
        except ValueError:
            if len(part) > 1:
                _predict_halves(model, X_sk, part, lookup, out)


def _take(X: Any, idx: Any) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]


def check(compiled: CompiledModel, X: np.ndarray, *, X_sklearn: Any = None, data: str = "data",
          max_examples: int = 5, y: np.ndarray | None = None, c_index: np.ndarray | None = None,
          proba: bool = True, reference: bool = True) -> CheckReport:
    """Run every row through the C and through sklearn; count every difference.

    ``c_index``: the C's class indices for X when the caller already has them. ``proba`` and
    ``reference`` False skip the probability comparison and the IR reference evaluation
    (their fields are then None): the report needs only the class mismatches.
    """
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    X_sk = X32.astype(np.float64) if X_sklearn is None else X_sklearn
    model = compiled.model
    c_idx = compiled.predict_index(X32) if c_index is None else np.asarray(c_index)
    sk_idx = sklearn_index(model, X_sk, X32)
    diff = np.flatnonzero(c_idx != sk_idx)
    proba_mm = proba_diff = None
    sk_proba = None
    ok_rows = sk_idx >= 0
    if proba and hasattr(model, "predict_proba") and ok_rows.any():
        try:
            sk_proba = np.full((len(X32), len(estimator_classes(model))), np.nan)
            sk_proba[ok_rows] = model.predict_proba(_take(X_sk, np.flatnonzero(ok_rows)))
        except (AttributeError, ValueError):
            sk_proba = None
    if sk_proba is not None:
        c_proba = compiled.predict_proba(X32)
        want = sk_proba[ok_rows].astype(np.float32)
        got = c_proba[ok_rows]
        same = (got == want) | (np.isnan(got) & np.isnan(want))  # NaN where sklearn has NaN
        proba_mm = int((~same).any(axis=1).sum())
        gap = np.where(same, 0.0, np.abs(got.astype(np.float64) - want))
        proba_diff = float(np.nan_to_num(gap, nan=np.inf).max()) if len(want) else 0.0
    ref_mm = fallback = ref_proba_mm = None
    quantize = getattr(compiled, "quantize", None)
    if reference and compiled.ir is not None:
        ref = compiled.ir.reference(X32)
        ref_mm = int((ref.predict != c_idx).sum())
        if ref.fallback is not None:
            fallback = int(ref.fallback.sum())
        if quantize and ref.proba is not None:
            c_p = compiled.predict_proba(X32)
            ref_proba_mm = int((c_p != ref.proba.astype(np.float32)).any(axis=1).sum())
    acc_c = acc_sk = None
    if y is not None and is_detector(model):  # NSL-KDD labels: 0 = normal (inlier), else attack
        y = np.where(np.asarray(y) == 0, 1, -1)
    if y is not None:
        acc_c, acc_sk = _accuracy(model, c_idx, y), _accuracy(model, sk_idx, y)
    classes = estimator_classes(model).tolist()
    examples = []
    for i in diff[:max_examples]:
        examples.append({
            "row": int(i),
            "c": classes[c_idx[i]] if c_idx[i] >= 0 else -1,
            "sklearn": classes[sk_idx[i]] if sk_idx[i] >= 0 else "rejected",
            "sklearn_proba": None if sk_proba is None else [float(v) for v in sk_proba[i]],
        })
    scores = None
    if proba:
        scores = score_mismatches(compiled, X32, X_sk, ok_rows)
    return CheckReport(
        score_mismatches=scores,
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
        quantize=quantize,
        reference_proba_mismatches=ref_proba_mm,
        accuracy_c=acc_c,
        accuracy_sklearn=acc_sk,
        notes=list(compiled.source.notes),
    )


def score_mismatches(compiled: CompiledModel, X32: np.ndarray, X_sk: Any, ok_rows: np.ndarray
                     ) -> dict[str, int] | None:
    """Per scalar entry point (a detector's decision_function, score_samples): rows where the
    C's float differs from sklearn's value rounded to float32 (rows sklearn accepts)."""
    from tinycodegen.build import scalar_functions

    fns = [fn for fn in scalar_functions(compiled.source) if hasattr(compiled.model, fn)]
    if not fns:
        return None
    rows = np.flatnonzero(ok_rows)
    out = {}
    for fn in fns:
        want = np.asarray(getattr(compiled.model, fn)(_take(X_sk, rows))).astype(np.float32)
        got = compiled.call(fn, X32[rows])[:, 0]
        out[fn] = int((got != want).sum())
    return out


def _accuracy(model: Any, idx: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose predicted label equals y (a rejected row, -1, is never right)."""
    classes = estimator_classes(model)
    y = np.asarray(y)
    pred = classes[np.clip(idx, 0, None)]
    right = (pred == y) & (idx >= 0)
    return float(right.mean()) if len(y) else 0.0
