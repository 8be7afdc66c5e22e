"""Loader for CalibratedClassifierCV (method sigmoid or isotonic; ensemble True or False;
cv="prefit" or a FrozenEstimator): every fitted classifier through ``lower.load``, every calibrator
as numbers (see :mod:`tinycodegen.families.calibrated.ir`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinycodegen.core.base import ModelMeta
from tinycodegen.core.loading import feature_names
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.calibrated.ir import METHODS, CalibratedIR, Calibrator
from tinycodegen.lower import load

KIND = "CalibratedClassifierCV"


def unwrap(est: Any) -> Any:
    """The classifier inside FrozenEstimator wrappers (they only delegate)."""
    while type(est).__name__ == "FrozenEstimator" and hasattr(est, "estimator"):
        est = est.estimator
    return est


def response_method(est: Any) -> str:
    """What sklearn's ``_get_response_values`` calls first: decision_function, else
    predict_proba (``hasattr`` honours Pipeline's and SVC's ``available_if``)."""
    if hasattr(est, "decision_function"):
        return "decision_function"
    if hasattr(est, "predict_proba"):
        return "predict_proba"
    raise UnsupportedModelError(f"{KIND}: {type(est).__name__} has neither decision_function "
                                "nor predict_proba")


def calibrator(cal: Any, i: int) -> Calibrator:
    name = type(cal).__name__
    if name == "_SigmoidCalibration":
        return Calibrator(a=float(cal.a_), b=float(cal.b_))
    if name != "IsotonicRegression":
        raise UnsupportedModelError(f"{KIND}: calibrator {i} is a {name}, not a sigmoid or "
                                    "isotonic calibrator")
    x, y = np.asarray(cal.X_thresholds_), np.asarray(cal.y_thresholds_)
    dtypes = {x.dtype, y.dtype}
    if cal.out_of_bounds != "clip" or dtypes not in ({np.dtype(np.float64)},
                                                     {np.dtype(np.float32)}):
        raise UnsupportedModelError(
            f"{KIND}: isotonic calibrator {i} has out_of_bounds={cal.out_of_bounds!r} and "
            f"{x.dtype}/{y.dtype} thresholds; only float64 or float32 thresholds with "
            "clipping are supported")
    f32 = x.dtype == np.float32
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    lo, hi = float(cal.X_min_), float(cal.X_max_)
    if not (len(x) and np.isfinite(x).all() and np.isfinite(y).all()
            and (np.diff(x) > 0).all() and lo == x[0] and hi == x[-1]):
        raise UnsupportedModelError(f"{KIND}: isotonic calibrator {i} has thresholds that are "
                                    "not finite and strictly increasing over [X_min_, X_max_]")
    return Calibrator(x=x, y=y, x_min=lo, x_max=hi, f32=bool(f32))


def load_calibrated(model: Any) -> CalibratedIR:
    method = model.method
    if method not in METHODS:
        raise UnsupportedModelError(
            f"{KIND}(method={method!r}) is not supported (its softmax and log run numpy's "
            "vectorised exp/log, whose last bits depend on the CPU and differ from the C "
            f"library's); supported methods: {', '.join(METHODS)}")
    classes = np.asarray(model.classes_).tolist()
    k = len(classes)
    members, responses, cal_sets = [], [], []
    for f, cc in enumerate(model.calibrated_classifiers_):
        est = unwrap(cc.estimator)
        label = f"{KIND} classifier {f} ({type(est).__name__})"
        last = est.steps[-1][1] if type(est).__name__ == "Pipeline" else est
        if k > 2 and getattr(last, "decision_function_shape", "ovr") == "ovo":
            raise UnsupportedModelError(f"{label}: calibrating one-vs-one decision values is not "
                                        "supported (use decision_function_shape='ovr')")
        try:
            ir = load(est)
        except UnsupportedModelError as exc:
            raise UnsupportedModelError(f"{label}: {exc}") from None
        if list(ir.meta.classes) != classes:
            raise UnsupportedModelError(
                f"{label} predicts classes {list(ir.meta.classes)}, not the calibrated model's "
                f"{classes} (a fold without every class)")
        resp = response_method(est)
        if resp == "decision_function" and ir.decision_width is None:
            raise UnsupportedModelError(
                f"{label}: its decision_function (which calibration uses) is not compiled for "
                f"{ir.kind} models; supported inner models with a decision_function: linear "
                "models, SVCs and StackingClassifiers")
        width = _width(ir, resp, k)
        cals = tuple(calibrator(c, i) for i, c in enumerate(cc.calibrators))
        if width != (1 if k == 2 else k) or len(cals) != width:
            raise UnsupportedModelError(
                f"{label}: {len(cals)} calibrators for a {resp} of {width} columns and {k} "
                "classes (a multiclass SVC needs decision_function_shape='ovr')")
        members.append(ir)
        responses.append(resp)
        cal_sets.append(cals)
    widths = {m.meta.n_features for m in members}
    if len(widths) != 1:
        raise UnsupportedModelError(f"{KIND}: classifiers take different input widths {widths}")
    first = members[0].meta
    meta = ModelMeta(
        n_features=first.n_features, classes=tuple(classes), estimator=KIND,
        feature_names=feature_names(model) or first.feature_names,
        nan_policy="route" if all(m.meta.nan_policy == "route" for m in members) else "reject")
    return CalibratedIR(meta=meta, method=method, members=tuple(members),
                        responses=tuple(responses), calibrators=tuple(cal_sets))


def _width(ir: Any, resp: str, k: int) -> int:
    """Columns sklearn calibrates: binary one (decision or class 1's probability), else k."""
    if resp == "predict_proba":
        return 1 if k == 2 else k
    from tinycodegen.core.members import decision_width

    return decision_width(ir)
