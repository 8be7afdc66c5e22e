"""IR of a preprocessing pipeline in front of a tree ensemble, after folding.

sklearn hands the tree ``float32(z)`` (z the float64 transform output) and tests
``float32(z_j) <= t``. The C instead builds a float vector ``v`` and walks ``core`` (a plain
:class:`TreeEnsembleIR` whose features index ``v``):

- ``v[0:n_raw] = x[raw_src]``: numeric outputs whose transform was folded into the core's
  thresholds (``passes.fold_transform``): the C compares the raw input, no arithmetic. A raw
  value outside ``[raw_lo, raw_hi]`` is rejected: there sklearn's float32(z) is infinite (or a
  scaler check fires), which sklearn rejects;
- ``v[n_raw:] = float32(prep(x))``: the remaining outputs (encoded categories the trees split
  on, and any output that cannot be folded exactly), computed as sklearn does.

``prep`` also validates every categorical code and applies the encoders' ``handle_unknown``.
The core then checks ``v`` exactly as sklearn checks ``float32(z)`` (inf rejected; NaN routed or
rejected per the trees' policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from tinycodegen.core.base import ModelMeta, Reference
from tinycodegen.core.members import standard_outputs
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.families.trees.ir import TreeEnsembleIR


@dataclass(frozen=True, eq=False)
class PipelineTreeIR:
    meta: ModelMeta  # raw input: n_features = prep.n_inputs
    prep: InputTransform  # computes v[n_raw:] (its outputs) and validates the codes
    raw_src: np.ndarray  # int32 (n_raw,): raw column of v[i]
    core: TreeEnsembleIR  # on v
    folded: int = 0  # number of transform outputs folded into thresholds
    raw_lo: np.ndarray | None = None  # float32 (n_raw,): lowest accepted raw value
    raw_hi: np.ndarray | None = None  # float32 (n_raw,): highest accepted raw value
    kind: str = field(default="pipeline_tree", init=False)
    # as a Voting / Stacking / Calibrated member (core.members)
    sklearn_bitwise: ClassVar[bool] = True
    decision_width: ClassVar[None] = None

    def member_outputs(self, X: np.ndarray, need: str) -> tuple:
        return standard_outputs(self, X, need)

    def __post_init__(self) -> None:
        if self.core.meta.n_features != len(self.raw_src) + self.prep.n_outputs:
            raise ValueError("pipeline tree IR: vector width differs from the core's input")
        self.raw_src.setflags(write=False)
        full = np.finfo(np.float32).max
        for name, fill in (("raw_lo", -full), ("raw_hi", full)):
            arr = getattr(self, name)
            if arr is None:
                arr = np.full(self.n_raw, fill, dtype=np.float32)
                object.__setattr__(self, name, arr)
            arr.setflags(write=False)

    @property
    def bounded(self) -> bool:
        """Some raw slot has an accepted range narrower than all finite floats."""
        full = np.finfo(np.float32).max
        return bool((self.raw_lo > -full).any() or (self.raw_hi < full).any())

    @property
    def n_raw(self) -> int:
        return len(self.raw_src)

    def vector(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(v float32 (n, width), bool per row rejected by the transform before the trees)."""
        X = np.asarray(X, dtype=np.float32)
        z, bad = self.prep.compute(X)
        raw = X[:, self.raw_src]
        bad |= ((raw < self.raw_lo) | (raw > self.raw_hi)).any(axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            tail = z.astype(np.float32)
        v = np.concatenate([raw, tail], axis=1)
        return np.ascontiguousarray(v, dtype=np.float32), bad

    def reference(self, X: np.ndarray) -> Reference:
        v, bad = self.vector(X)
        v[bad] = 0.0
        ref = self.core.reference(v)
        ref.predict[bad] = -1
        if ref.proba is not None:
            ref.proba[bad] = 0.0
        if ref.fallback is not None:
            ref.fallback[bad] = False
        return ref
