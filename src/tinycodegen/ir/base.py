"""Parts shared by every intermediate representation (IR) family.

An IR is a frozen dataclass built by a loader from a fitted estimator. It holds only numbers
(numpy arrays) and metadata, never C text, and it has a NumPy reference evaluator that
defines, bit for bit, what the generated C computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

NanPolicy = Literal["route", "reject"]


@dataclass(frozen=True)
class ModelMeta:
    """What the generated header describes, common to all families."""

    n_features: int
    classes: tuple[object, ...]
    estimator: str  # sklearn class name, for comments and reports
    feature_names: tuple[str, ...] | None = None
    nan_policy: NanPolicy = "reject"  # "route": NaN is a valid input (trees); inf always rejected

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def class_labels(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.classes)


@dataclass(frozen=True)
class Reference:
    """Output of a reference evaluator over rows of float32 input."""

    predict: np.ndarray  # int32 class index, -1 for rejected input
    proba: np.ndarray | None  # float64 (n, n_classes); rows of rejected input are 0
    fallback: np.ndarray | None = None  # bool per row: the exact (slow) path ran


class ModelIR(Protocol):
    kind: str
    meta: ModelMeta

    def reference(self, X: np.ndarray) -> Reference: ...


def rejected_rows(X: np.ndarray, nan_policy: NanPolicy) -> np.ndarray:
    """Rows the C rejects (returns -1): any infinite value, or any NaN when NaN is rejected."""
    X = np.asarray(X, dtype=np.float32)
    bad = np.isinf(X).any(axis=1)
    if nan_policy == "reject":
        bad |= np.isnan(X).any(axis=1)
    return bad
