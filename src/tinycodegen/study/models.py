"""The study's models, each a Pipeline that preprocesses as the study does.

Input: the loader's 41 floats, the categorical columns (protocol_type, service, flag) already
integer codes from its fixed vocabulary (-1 for a value never seen). Inside each Pipeline,
linear models, SVMs and MLPs one-hot encode those codes and MinMax-normalise the rest; trees
MinMax-normalise every column (a tree needs no one-hot; the scaler folds exactly into the
thresholds, so a tree Pipeline compiles to a plain tree and quantizes like one).
Boosted trees take the loader's 41 values as they are (no Pipeline: a boosted model bins or
splits raw values itself). HistGradientBoosting takes the three code columns as categorical
features (its native bitset splits; a code -1, never seen in training, is a missing value);
XGBoost and LightGBM take them as numbers, what both do with an array (their categorical
support wants a DataFrame with category dtypes), which also keeps the LightGBM models within
what m2cgen converts (it has no LightGBM categorical splits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinycodegen.datasets import nsl_kdd

CAT_COLS = list(nsl_kdd.CATEGORICAL_INDEX)
NUM_COLS = [i for i in range(len(nsl_kdd.FEATURE_NAMES)) if i not in CAT_COLS]


def _pre(kind: str) -> Any:
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

    if kind == "scale":
        return MinMaxScaler()
    codes = [np.arange(len(nsl_kdd.CATEGORICAL[c]), dtype=np.float64) for c in nsl_kdd.CATEGORICAL]
    enc = OneHotEncoder(categories=codes, handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("cat", enc, CAT_COLS), ("num", MinMaxScaler(), NUM_COLS)])


def _pipe(kind: str, est: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return Pipeline([("pre", _pre(kind)), ("model", est)])


def rf(trees: int, depth: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return _pipe("scale", RandomForestClassifier(trees, max_depth=depth, random_state=seed,
                                                       n_jobs=1))
    return build


def linear_svm(seed: int) -> Any:
    from sklearn.svm import LinearSVC

    return _pipe("onehot", LinearSVC(C=1.0, random_state=seed, max_iter=5000))


def logreg(seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return _pipe("onehot", LogisticRegression(max_iter=1000, random_state=seed))


def mlp(hidden: tuple[int, ...]) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from sklearn.neural_network import MLPClassifier

        # sklearn's default L2 decay leaves subnormal weights on inputs constant in training
        # (unseen categories, constant columns): tinycodegen takes them (see ir/mlp.py).
        return _pipe("onehot", MLPClassifier(hidden, max_iter=60, random_state=seed,
                                             early_stopping=False))
    return build


def hybrid(trees: int, depth: int) -> Callable[[int], Any]:
    """Soft vote of an RBF SVM with Platt (sigmoid) probabilities and a random forest.

    The probabilities come from CalibratedClassifierCV(ensemble=False): one SVC fitted on all
    rows, its sigmoid fitted on 5-fold cross-validated decision values (as libsvm's
    probability=True does, which scikit-learn 1.9 deprecates and 1.11 removes)."""
    def build(seed: int) -> Any:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import RandomForestClassifier, VotingClassifier
        from sklearn.svm import SVC

        svm = CalibratedClassifierCV(_pipe("onehot", SVC(kernel="rbf")), method="sigmoid",
                                     ensemble=False, cv=5)
        forest = _pipe("scale", RandomForestClassifier(trees, max_depth=depth,
                                                         random_state=seed, n_jobs=1))
        return VotingClassifier([("svm", svm), ("rf", forest)], voting="soft")
    return build


def iforest(n_trees: int = 100, max_samples: int | str = "auto") -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from sklearn.ensemble import IsolationForest

        # trees need no scaling; the loader's codes go in as they are
        return IsolationForest(n_estimators=n_trees, max_samples=max_samples,
                               random_state=seed, n_jobs=1)

    return build


def ocsvm(seed: int) -> Any:
    from sklearn.svm import OneClassSVM

    return _pipe("scale", OneClassSVM(nu=0.05, gamma="scale"))


def envelope(seed: int) -> Any:
    from sklearn.covariance import EllipticEnvelope

    return _pipe("scale", EllipticEnvelope(contamination=0.05, random_state=seed))


def lof(seed: int) -> Any:
    from sklearn.neighbors import LocalOutlierFactor

    # a KD-tree: sklearn's brute force sums distances through BLAS (not replayed)
    return _pipe("scale", LocalOutlierFactor(novelty=True, algorithm="kd_tree",
                                             contamination=0.05))


def hgb(iters: int, depth: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(max_iter=iters, max_depth=depth,
                                              categorical_features=CAT_COLS,
                                              early_stopping=False, random_state=seed)
    return build


def xgb(trees: int, depth: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=trees, max_depth=depth, tree_method="hist",
                             n_jobs=1, random_state=seed)
    return build


def lgbm(trees: int, leaves: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(n_estimators=trees, num_leaves=leaves, n_jobs=1,
                              random_state=seed, verbose=-1)
    return build


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    tiny: bool
    build: Callable[[int], Any]
    quantize: str | None = None
    optimize: str | None = None  # layout (--optimize speed / size), shown in the notes column
    train_rows: int | None = None  # fixed stratified subsample of KDDTrain+ (SVC training cost)
    note: str = ""
    miss_note: str = ""  # tiny models: why a target is missed, shown when it is
    detector: bool = False  # outlier detector: fitted on the normal rows only, no labels
    m2cgen: bool = False  # also compile with m2cgen and compare (boosted trees)


BOOSTED: tuple[ModelSpec, ...] = (
    ModelSpec("HGB", "HistGradientBoosting", False, hgb(100, 6), m2cgen=True,
              note="100 iterations, depth 6, categorical codes as categories"),
    ModelSpec("XGB", "XGBoost", False, xgb(100, 6), m2cgen=True,
              note="100 trees, depth 6"),
    ModelSpec("LGBM", "LightGBM", False, lgbm(100, 31), m2cgen=True,
              note="100 trees, 31 leaves"),
    ModelSpec("Tiny HGB", "HistGradientBoosting", True, hgb(25, 3), quantize="int8",
              m2cgen=True, note="25 iterations, depth 3, int8",
              miss_note="the accuracy is lost to the smaller model, not to int8: the float "
              "model of the same size (25 x depth 3) scores the same on KDDTest+ (.7960)."),
    ModelSpec("Tiny XGB", "XGBoost", True, xgb(25, 3), quantize="int8", m2cgen=True,
              note="25 trees, depth 3, int8",
              miss_note="the accuracy is lost to the smaller model, not to int8: the float "
              "model of the same size (25 x depth 3) scores the same on KDDTest+ (.7800)."),
    ModelSpec("Tiny LGBM", "LightGBM", True, lgbm(25, 8), quantize="int8", m2cgen=True,
              note="25 trees, 8 leaves, int8"),
)

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("RF", "Random Forest", False, rf(10, 8)),
    ModelSpec("SVM", "Linear SVM", False, linear_svm),
    ModelSpec("LR", "Logistic Regression", False, logreg),
    ModelSpec("MLP", "MLP", False, mlp((16,))),
    ModelSpec("Hybrid", "Hybrid SVM+RF", False, hybrid(10, 8), train_rows=10_000,
              note="RBF SVC with sigmoid-calibrated probabilities (CalibratedClassifierCV, "
              "ensemble=False, 5 folds): trained on a 10,000-row stratified sample"),
    ModelSpec("Tiny RF", "Random Forest", True, rf(5, 6), quantize="int8", optimize="speed",
              note="5 trees, depth 6, int8 bins and 8-bit leaves"),
    ModelSpec("Tiny SVM", "Linear SVM", True, linear_svm, quantize="int8"),
    ModelSpec("Tiny LR", "Logistic Regression", True, logreg, quantize="int8"),
    ModelSpec("Tiny MLP", "MLP", True, mlp((16,)), quantize="int8",
              note="the MLP with int8 weights and integer arithmetic"),
    ModelSpec("Tiny Hybrid", "Hybrid SVM+RF", True, hybrid(5, 6), quantize="int8",
              train_rows=5_000, note="tiny members; SVC trained on a 5,000-row sample"),
    # The unsupervised half: detectors fitted on KDDTrain+'s normal rows only (attack =
    # outlier); ROC AUC from -decision_function.
    ModelSpec("IForest", "Isolation Forest", False, iforest(), detector=True,
              note="unsupervised: 100 trees (256-row subsamples) fitted on KDDTrain+ normal "
              "rows only"),
    # Tiny, as the Tiny RF halves the trees and cuts two levels: a quarter of the trees on
    # half the subsample (depth limit 7 instead of 8).
    ModelSpec("Tiny IForest", "Isolation Forest", True, iforest(25, 128), quantize="int8",
              detector=True, note="25 trees on 128-row subsamples, 8-bit fixed-point path "
              "lengths, integer sum and cut"),
    ModelSpec("OC-SVM", "One-class SVM", False, ocsvm, detector=True, train_rows=2_000,
              note="unsupervised: MinMax + RBF OneClassSVM (nu 0.05) on 2,000 normal rows"),
    ModelSpec("Tiny OC-SVM", "One-class SVM", True, ocsvm, quantize="int8", detector=True,
              train_rows=2_000, note="the OneClassSVM with int8 input codes and coefficients, "
              "a 16-bit kernel table, integer sums"),
    ModelSpec("EllipticEnv", "Elliptic Envelope", False, envelope, detector=True,
              train_rows=5_000,
              note="unsupervised: MinMax + EllipticEnvelope (contamination 0.05) on 5,000 "
              "normal rows"),
    ModelSpec("LOF", "Local Outlier Factor", False, lof, detector=True, train_rows=1_000,
              note="unsupervised: MinMax + LocalOutlierFactor(novelty, k 20, contamination "
              "0.05) storing 1,000 normal rows (as doubles: 344 KB)"),
    *BOOSTED,
)
