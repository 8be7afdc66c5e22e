"""Loaders for VotingClassifier and StackingClassifier: each member through ``lower.load``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.base import ModelMeta
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.hybrid.ir import METHODS, HybridIR
from tinycodegen.lower import load


def _members(model: Any, pairs: list[tuple[str, Any]]) -> list[Any]:
    """The members' IRs; every member must predict the encoded labels 0 .. k - 1."""
    kind = type(model).__name__
    k = len(model.classes_)
    out = []
    for name, est in pairs:
        try:
            ir = load(est)
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(
                f"{kind} member '{name}' ({type(est).__name__}): {exc}"
            ) from None
        if list(ir.meta.classes) != list(range(k)):
            raise UnsupportedModelError(
                f"{kind} member '{name}' ({type(est).__name__}) has classes "
                f"{list(ir.meta.classes)}, not the encoded 0 .. {k - 1} (was it fitted by the "
                f"{kind}?)"
            )
        out.append(ir)
    n_features = {ir.meta.n_features for ir in out}
    if len(n_features) != 1:
        raise UnsupportedModelError(f"{kind}: members take different input widths {n_features}")
    return out


def _meta(model: Any, members: list[Any], passthrough: bool = False) -> ModelMeta:
    route = all(ir.meta.nan_policy == "route" for ir in members) and not passthrough
    return ModelMeta(
        n_features=members[0].meta.n_features,
        classes=tuple(np.asarray(model.classes_).tolist()),
        estimator=type(model).__name__,
        feature_names=feature_names(model) or members[0].meta.feature_names,
        nan_policy="route" if route else "reject",
    )


def _require_proba(kind: str, name: str, est: Any, ir: Any) -> None:
    if not hasattr(est, "predict_proba") or not getattr(ir, "has_proba", True):
        raise UnsupportedModelError(
            f"{kind} member '{name}' ({type(est).__name__}) has no predict_proba (an SVC needs "
            "probability=True)"
        )


def load_voting(model: Any) -> HybridIR:
    names = [n for n, e in model.estimators if not (isinstance(e, str) and e == "drop")]
    pairs = list(zip(names, model.estimators_, strict=True))
    members = _members(model, pairs)
    soft = model.voting == "soft"
    if soft:
        for (name, est), ir in zip(pairs, members, strict=True):
            _require_proba("VotingClassifier", name, est, ir)
    w = model._weights_not_none
    weights = None if w is None else np.asarray(w, dtype=np.float64)
    if w is None:
        scl = float(len(members))
    else:  # np.average's normalizer, computed by numpy the way sklearn's call computes it
        wgt = np.asanyarray(w).reshape(len(members), 1, 1)
        scl = float(wgt.sum(axis=0, dtype=np.result_type(np.float64, wgt.dtype))[0, 0])
    return HybridIR(meta=_meta(model, members), mode="soft" if soft else "hard",
                    members=tuple(members), weights=weights, weight_sum=scl)


def load_stacking(model: Any) -> HybridIR:
    if isinstance(model.classes_, list):
        raise UnsupportedModelError("StackingClassifier with multilabel targets is not supported")
    names = [n for n, e in model.estimators if not (isinstance(e, str) and e == "drop")]
    pairs, methods = [], []
    for name, est, meth in zip(names, model.estimators_, model.stack_method_, strict=True):
        if meth not in METHODS:
            raise UnsupportedModelError(
                f"StackingClassifier member '{name}': stack method {meth!r} is not supported"
            )
        pairs.append((name, est))
        methods.append(meth)
    members = _members(model, pairs)
    final_est = model.final_estimator_
    try:
        final = load(final_est)
    except UnsupportedModelError as exc:
        raise UnsupportedModelError(
            f"StackingClassifier final estimator ({type(final_est).__name__}): {exc}"
        ) from None
    if not getattr(final, "stacking_final", False) or getattr(final, "transform", None) is not None:
        raise UnsupportedModelError(
            f"StackingClassifier final estimator {type(final_est).__name__}: only linear "
            "classifiers (LogisticRegression, LinearSVC, RidgeClassifier, SGDClassifier) are "
            "supported as the final estimator"
        )
    passthrough = bool(model.passthrough)
    ir = HybridIR(meta=_meta(model, members, passthrough), mode="stack", members=tuple(members),
                  methods=tuple(methods), passthrough=passthrough, final=final)
    if ir.meta_width != final.n_inputs:
        raise UnsupportedModelError(
            f"StackingClassifier: the final estimator takes {final.n_inputs} features, the "
            f"members give {ir.meta_width}"
        )
    return ir
