"""Loader for MLPClassifier."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinycodegen.core.loading import meta_for
from tinycodegen.core.numerics import WEIGHT_MAX
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.mlp.activations import ACTIVATIONS
from tinycodegen.families.mlp.ir import MLPIR


@functools.cache
def expit_threshold() -> float:
    """The smallest double o with scipy's ``expit(o) > 0.5`` (what MLP predict tests).

    Found by bisection over the ordered bit patterns of positive doubles, then checked: expit is
    <= 0.5 just below it and at 0, > 0.5 at it and just above.
    """
    from scipy.special import expit

    def as_double(bits: int) -> float:
        return float(np.array([bits], dtype=np.int64).view(np.float64)[0])

    lo, hi = 0, int(np.array([1e-10]).view(np.int64)[0])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if expit(as_double(mid)) > 0.5:
            hi = mid
        else:
            lo = mid
    probe = np.array([as_double(b) for b in range(hi - 64, hi + 64)])
    if not ((expit(probe) > 0.5) == (probe >= as_double(hi))).all() or expit(0.0) > 0.5:
        raise UnsupportedModelError("scipy's expit is not monotone near 0 on this platform")
    return as_double(hi)


def load_mlp(model: Any) -> MLPIR:
    out = getattr(model, "out_activation_", None)
    n_out = int(getattr(model, "n_outputs_", 0))
    classes = np.asarray(model.classes_)
    if not ((out == "logistic" and n_out == 1) or (out == "softmax" and n_out == len(classes))):
        raise UnsupportedModelError(
            f"MLPClassifier with output {out!r} and {n_out} outputs (multilabel?): only "
            "single-label binary or multiclass models are supported"
        )
    if model.activation not in ACTIVATIONS:
        raise UnsupportedModelError(f"MLPClassifier activation {model.activation!r}")
    weights = tuple(np.array(w, dtype=np.float64) for w in model.coefs_)
    biases = tuple(np.array(b, dtype=np.float64) for b in model.intercepts_)
    both = np.concatenate([a.ravel() for a in weights + biases])
    if not np.isfinite(both).all():
        raise UnsupportedModelError("MLPClassifier has non-finite weights (diverged fit?)")
    if float(np.abs(both).max(initial=0.0)) > WEIGHT_MAX:
        raise UnsupportedModelError(
            "MLPClassifier has a weight above 2**600 in magnitude, beyond the exact path's range"
        )
    return MLPIR(
        meta=meta_for(model, weights[0].shape[0], "reject"),
        weights=weights,
        biases=biases,
        activation=model.activation,
        threshold=expit_threshold(),
    )
