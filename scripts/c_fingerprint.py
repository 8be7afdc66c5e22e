"""Fingerprint of the generated C: one sha256 per generated file over a fixed corpus of models.

Trains small models with fixed seeds (every estimator kind the loaders accept, in Pipelines, as
Voting / Stacking / Calibrated members, the detectors; every native layout; every quantization
a kind takes; SVC and OC-SVM under every BLAS ddot order) and prints, per case and file, the
sha256 of the C text (plus the guarantee, and the one-line error for refused cases). Two runs
on the same machine print the same text; a refactoring that keeps the C byte-identical keeps
the output identical.

Usage: PYTHONPATH=src python scripts/c_fingerprint.py > fingerprint.txt
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    PassiveAggressiveClassifier,
    Perceptron,
    RidgeClassifier,
    RidgeClassifierCV,
    SGDClassifier,
)
from sklearn.neighbors import LocalOutlierFactor
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from sklearn.svm import SVC, LinearSVC, NuSVC, OneClassSVM
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

import tinycodegen
from tinycodegen.errors import TinycodegenError

SEED = 7
N = 240


def data(n_classes: int, nan: bool = False, cat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED + n_classes + 10 * nan + 100 * cat)
    X = rng.normal(size=(N, 6)) * np.array([1.0, 10.0, 0.01, 3.0, 100.0, 1.0])
    X = X.astype(np.float32).astype(np.float64)
    if cat:
        X[:, 5] = rng.integers(0, 4, N)
    y = ((X[:, 0] > 0).astype(int) + (X[:, 3] > 1).astype(int)) % n_classes
    if nan:
        X[rng.random(X.shape) < 0.05] = np.nan
    return X, y


def forest() -> RandomForestClassifier:
    return RandomForestClassifier(4, max_depth=4, random_state=SEED)


def classifiers() -> Iterator[tuple[str, Callable[[], Any]]]:
    yield "dt", lambda: DecisionTreeClassifier(max_depth=5, random_state=SEED)
    yield "et1", lambda: ExtraTreeClassifier(max_depth=5, random_state=SEED)
    yield "rf", forest
    yield "et", lambda: ExtraTreesClassifier(4, max_depth=4, random_state=SEED)
    yield "logreg", lambda: LogisticRegression(max_iter=300)
    yield "logregcv", lambda: LogisticRegressionCV(cv=3, max_iter=300)
    yield "linsvc", lambda: LinearSVC(random_state=SEED)
    yield "sgd", lambda: SGDClassifier(random_state=SEED)
    yield "ridge", lambda: RidgeClassifier()
    yield "ridgecv", lambda: RidgeClassifierCV()
    yield "perceptron", lambda: Perceptron(random_state=SEED)
    yield "pa", lambda: PassiveAggressiveClassifier(random_state=SEED)
    for act in ("relu", "tanh", "logistic", "identity"):
        yield f"mlp_{act}", lambda a=act: MLPClassifier((5, 4), activation=a, max_iter=200,
                                                        random_state=SEED)
    for k in ("rbf", "linear", "poly", "sigmoid"):
        yield f"svc_{k}", lambda k=k: SVC(kernel=k, C=3.0, gamma="scale")
    yield "svc_proba", lambda: SVC(kernel="rbf", probability=True, random_state=SEED)
    yield "nusvc", lambda: NuSVC(nu=0.3)
    yield "cal_svc", lambda: CalibratedClassifierCV(SVC(), cv=3)
    yield "cal_rf_iso", lambda: CalibratedClassifierCV(forest(), cv=3, method="isotonic")
    yield "cal_lr_one", lambda: CalibratedClassifierCV(LogisticRegression(max_iter=300),
                                                       cv=3, ensemble=False)
    yield "vote_hard", lambda: VotingClassifier(
        [("rf", forest()), ("lr", LogisticRegression(max_iter=300)), ("dt",
         DecisionTreeClassifier(max_depth=3, random_state=SEED))], voting="hard")
    yield "vote_soft", lambda: VotingClassifier(
        [("rf", forest()), ("lr", LogisticRegression(max_iter=300)),
         ("mlp", MLPClassifier((4,), max_iter=200, random_state=SEED)),
         ("cal", CalibratedClassifierCV(SVC(), cv=3, ensemble=False))], voting="soft")
    yield "vote_svc_hard", lambda: VotingClassifier(
        [("svc", SVC()), ("lr", LogisticRegression(max_iter=300)), ("rf", forest())])
    yield "stack", lambda: StackingClassifier(
        [("svc", SVC()), ("rf", forest()), ("mlp", MLPClassifier((4,), max_iter=200,
                                                                random_state=SEED))],
        final_estimator=LogisticRegression(), cv=3)


def pipelines() -> Iterator[tuple[str, Callable[[], Any]]]:
    def ct() -> ColumnTransformer:
        return ColumnTransformer([("num", StandardScaler(), [0, 1, 2]),
                                  ("mm", MinMaxScaler(clip=True), [3, 4]),
                                  ("cat", OneHotEncoder(handle_unknown="ignore"), [5])])

    yield "pipe_rf", lambda: Pipeline([("ct", ct()), ("est", forest())])
    yield "pipe_dt_ord", lambda: Pipeline([("ct", ColumnTransformer(
        [("o", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [5])],
        remainder="passthrough")), ("est", DecisionTreeClassifier(max_depth=5, random_state=1))])
    yield "pipe_lr", lambda: Pipeline([("ct", ct()), ("post", MaxAbsScaler()),
                                       ("est", LogisticRegression(max_iter=300))])
    yield "pipe_mlp", lambda: Pipeline([("s", MinMaxScaler()), ("est", MLPClassifier(
        (5,), max_iter=200, random_state=SEED))])
    yield "pipe_svc", lambda: Pipeline([("s", StandardScaler()), ("est", SVC())])
    yield "pipe_cal", lambda: Pipeline([("s", StandardScaler()), ("est", CalibratedClassifierCV(
        LogisticRegression(max_iter=300), cv=3))])
    yield "pipe_vote", lambda: Pipeline([("s", StandardScaler()), ("est", VotingClassifier(
        [("rf", forest()), ("lr", LogisticRegression(max_iter=300))], voting="soft"))])


def boosted() -> Iterator[tuple[str, Callable[[], Any]]]:
    """The boosted-trees family (XGBoost and LightGBM when installed: the ``boost`` extra)."""
    yield "gb", lambda: GradientBoostingClassifier(n_estimators=6, max_depth=3,
                                                   random_state=SEED)
    yield "hgb", lambda: HistGradientBoostingClassifier(max_iter=6, max_depth=3,
                                                        random_state=SEED)
    try:
        from xgboost import XGBClassifier
    except ImportError:
        pass
    else:
        yield "xgb", lambda: XGBClassifier(n_estimators=6, max_depth=3, random_state=SEED,
                                           n_jobs=1)
    try:
        from lightgbm import LGBMClassifier
    except ImportError:
        pass
    else:
        yield "lgbm", lambda: LGBMClassifier(n_estimators=6, num_leaves=7, random_state=SEED,
                                             n_jobs=1, verbose=-1)


def detectors() -> Iterator[tuple[str, Callable[[], Any]]]:
    yield "iforest", lambda: IsolationForest(n_estimators=6, random_state=SEED)
    yield "ocsvm", lambda: OneClassSVM(nu=0.2, gamma="scale")
    yield "ocsvm_lin", lambda: OneClassSVM(kernel="linear", nu=0.2)
    yield "envelope", lambda: EllipticEnvelope(random_state=SEED)
    yield "lof", lambda: LocalOutlierFactor(n_neighbors=8, novelty=True)
    yield "pipe_iforest", lambda: Pipeline([("s", StandardScaler()), ("est", IsolationForest(
        n_estimators=4, random_state=SEED))])


def emit_ir(ir: Any, name: str) -> Any:
    """Emit (with the double guard) an IR the script changed itself."""
    try:
        from tinycodegen.families.registry import emit  # type: ignore[attr-defined]
    except ImportError:
        from tinycodegen.emit import emit  # type: ignore[no-redef]
    return emit(ir, name, "table")


def dot_orders() -> tuple[str, ...]:
    try:
        from tinycodegen.core.ddot import DOT_ORDERS  # type: ignore[import-not-found]
    except ImportError:
        from tinycodegen.ir.ddot import DOT_ORDERS  # type: ignore[no-redef]
    return tuple(DOT_ORDERS)


def lines(case: str, source: Any) -> Iterator[str]:
    yield f"{case} guarantee={source.guarantee} backend={source.backend}"
    for fname in sorted(source.files):
        digest = hashlib.sha256(source.files[fname].encode()).hexdigest()
        yield f"{case} {fname} {digest}"


def run(case: str, model: Any, calib: np.ndarray | None = None, **kw: Any) -> Iterator[str]:
    try:
        compiled = tinycodegen.compile(model, name=case.replace("-", "_"), calibration=calib,
                                       **kw)
    except TinycodegenError as exc:
        yield f"{case} ERROR {type(exc).__name__}: {exc}"
        return
    yield from lines(case, compiled.source)
    ir = compiled.ir
    if ir is not None and hasattr(ir, "dot_order") and kw.get("quantize") is None:
        for order in dot_orders():
            if order == ir.dot_order or not hasattr(ir, "sv"):
                continue
            try:
                src = emit_ir(dataclasses.replace(ir, dot_order=order), f"{case}_o")
            except (TinycodegenError, ValueError) as exc:
                yield f"{case}@{order} ERROR {type(exc).__name__}: {exc}"
                continue
            yield from lines(f"{case}@{order}", src)


# Cases also compiled with --quantize and --optimize speed (the quantized forests' speed layout,
# and quantized VotingClassifiers whose forest members take it), with calibration rows (the
# VotingClassifiers' linear members need them; the forests' quantizer ignores them).
QSPEED = ("rf", "et", "vote_soft", "vote_hard")


def variants(label: str, model: Any, X: np.ndarray) -> Iterator[str]:
    yield from run(label, model)
    for opt in ("speed", "size"):
        yield from run(f"{label}-{opt}", model, optimize=opt)
    yield from run(f"{label}-inline", model, backend="inline")
    for q in ("int8", "int16"):
        yield from run(f"{label}-{q}", model, quantize=q)
        yield from run(f"{label}-{q}c", model, calib=X[:60].astype(np.float32), quantize=q)
        if label.split("-")[0] in QSPEED:
            yield from run(f"{label}-{q}-speed", model, calib=X[:60].astype(np.float32),
                           quantize=q, optimize="speed")


def fit_grid(label: str, make: Any, who: str) -> None:
    """Fit ``make()`` on 2 and 3 classes, with and without NaN, and print every variant."""
    for n_classes in (2, 3):
        for nan in (False, True):
            tag = f"{label}-c{n_classes}-nan{int(nan)}"
            X, y = data(n_classes, nan)
            try:
                model = make().fit(X, y)
            except ValueError:
                print(f"{tag} ({who} refuses to fit)")
                continue
            for line in variants(tag, model, X):
                print(line)


def main() -> None:
    warnings.simplefilter("ignore")
    for label, make in classifiers():
        fit_grid(label, make, "sklearn")
    for label, make in pipelines():
        for n_classes in (2, 3):
            X, y = data(n_classes, cat=True)
            for line in variants(f"{label}-c{n_classes}", make().fit(X, y), X):
                print(line)
    for label, make in boosted():
        fit_grid(label, make, "the library")
        X, y = data(3)
        pipe = Pipeline([("s", StandardScaler()), ("est", make())]).fit(X, y)
        for line in variants(f"pipe_{label}-c3", pipe, X):
            print(line)
    X, _ = data(2)
    for label, make in detectors():
        for line in variants(label, make().fit(X), X):
            print(line)
    import os

    os.environ["TINYCODEGEN_UNKNOWN_BLAS"] = "1"  # the sequential fallback: guarantee "band"
    X, y = data(3)
    for line in run("svc-unknown-blas", SVC().fit(X, y)):
        print(line)


if __name__ == "__main__":
    main()
