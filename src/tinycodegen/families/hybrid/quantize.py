"""Quantize a VotingClassifier: every member by its own quantizer, the vote in integers (see
``ir/qhybrid.py``). StackingClassifier is refused."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from tinycodegen.core.qnet_common import Calibration
from tinycodegen.errors import TinycodegenError, UnsupportedModelError
from tinycodegen.families.hybrid.ir import HybridIR
from tinycodegen.families.hybrid.qir import MAX_WEIGHT_SUM, QHybridIR, has_qproba
from tinycodegen.families.registry import quantize


def integer_weights(weights: np.ndarray | None, n: int, name: str) -> np.ndarray:
    """The smallest non-negative integers in exactly the ratio of ``weights`` (1s for None);
    a clear error when there are none with a total of at most MAX_WEIGHT_SUM."""
    if weights is None:
        return np.ones(n, dtype=np.int64)
    w = [float(v) for v in weights]
    if not all(math.isfinite(v) and v >= 0 for v in w) or not any(w):
        raise UnsupportedModelError(f"--quantize for {name}: weights {w} must be finite, "
                                    "non-negative and not all zero")
    fr = [Fraction(v) for v in w]
    den = math.lcm(*(f.denominator for f in fr))
    ints = [int(f * den) for f in fr]
    g = math.gcd(*ints)
    ints = [v // g for v in ints]
    if sum(ints) > MAX_WEIGHT_SUM:
        raise UnsupportedModelError(
            f"--quantize for {name}: the integer vote needs weights in an exact ratio of small "
            f"integers (total at most {MAX_WEIGHT_SUM}); {w} reduce to {ints[:4]}"
            f"{'...' if len(ints) > 4 else ''}: use e.g. weights=[1, 2] or no weights"
        )
    return np.asarray(ints, dtype=np.int64)


def quantize_hybrid(ir: HybridIR, mode: str, calibration: Calibration | None = None
                    ) -> QHybridIR:
    name = ir.meta.estimator
    if ir.mode == "stack":
        raise UnsupportedModelError(
            f"--quantize {mode} is not available for {name}: stacking feeds member outputs to "
            "a float final estimator; quantize VotingClassifier (hard or soft) instead"
        )
    members: list[Any] = []
    for i, member in enumerate(ir.members):
        est = member.meta.estimator
        try:
            q = quantize(member, mode, calibration)
        except TinycodegenError as exc:
            raise UnsupportedModelError(f"{name} member {i} ({est}): {exc}") from None
        if ir.mode == "soft" and not has_qproba(q):
            raise UnsupportedModelError(
                f"{name} member {i} ({est}): soft voting needs predict_proba, which the "
                f"quantized {q.kind} member does not have"
            )
        members.append(q)
    weights = integer_weights(ir.weights, len(members), name)
    return QHybridIR(meta=ir.meta, mode=mode, vote=ir.mode, members=tuple(members),
                     weights=weights)
