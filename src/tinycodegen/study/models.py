"""The study's ten models, each a Pipeline that preprocesses as the study does.

Categorical columns (protocol_type, service, flag) are encoded with the loader's fixed vocabulary
(so an encoder's ``categories_`` index is exactly the loader's integer code, and the C takes the
loader's 41 floats); numeric columns are MinMax-normalised. Linear models, SVMs and MLPs get a
one-hot encoding; trees an ordinal one (a tree needs no one-hot, and ordinal codes keep the
scaler foldable into thresholds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinycodegen.datasets import nsl_kdd

CATS = list(nsl_kdd.CATEGORICAL)
NUMS = [f for f in nsl_kdd.FEATURE_NAMES if f not in nsl_kdd.CATEGORICAL]


def _pre(kind: str) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

    vocab = [list(nsl_kdd.CATEGORICAL[c]) for c in CATS]
    if kind == "onehot":
        enc: Any = OneHotEncoder(categories=vocab, handle_unknown="ignore", sparse_output=False)
    else:
        enc = OrdinalEncoder(categories=vocab, handle_unknown="use_encoded_value",
                             unknown_value=-1)
    return ColumnTransformer([("cat", enc, CATS), ("num", MinMaxScaler(), NUMS)])


def _pipe(kind: str, est: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return Pipeline([("pre", _pre(kind)), ("model", est)])


def rf(trees: int, depth: int) -> Callable[[int], Any]:
    def build(seed: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        return _pipe("ordinal", RandomForestClassifier(trees, max_depth=depth, random_state=seed,
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

        return _pipe("onehot", MLPClassifier(hidden, max_iter=60, random_state=seed,
                                             early_stopping=False))
    return build


def hybrid(trees: int, depth: int) -> Callable[[int], Any]:
    """Soft vote of an RBF SVM (with Platt probabilities) and a random forest."""
    def build(seed: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier, VotingClassifier
        from sklearn.svm import SVC

        svm = _pipe("onehot", SVC(kernel="rbf", probability=True, random_state=seed))
        forest = _pipe("ordinal", RandomForestClassifier(trees, max_depth=depth,
                                                         random_state=seed, n_jobs=1))
        return VotingClassifier([("svm", svm), ("rf", forest)], voting="soft")
    return build


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    tiny: bool
    build: Callable[[int], Any]
    quantize: str | None = None
    train_rows: int | None = None  # fixed stratified subsample of KDDTrain+ (SVC training cost)
    note: str = ""


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec("RF", "Random Forest", False, rf(10, 8)),
    ModelSpec("SVM", "Linear SVM", False, linear_svm),
    ModelSpec("LR", "Logistic Regression", False, logreg),
    ModelSpec("MLP", "MLP", False, mlp((16,))),
    ModelSpec("Hybrid", "Hybrid SVM+RF", False, hybrid(10, 8), train_rows=10_000,
              note="RBF SVC with Platt probabilities: trained on a 10,000-row stratified sample"),
    ModelSpec("Tiny RF", "Random Forest", True, rf(5, 6), quantize="int8",
              note="5 trees, depth 6, int8 bins and 8-bit leaves"),
    ModelSpec("Tiny SVM", "Linear SVM", True, linear_svm, quantize="int8"),
    ModelSpec("Tiny LR", "Logistic Regression", True, logreg, quantize="int8"),
    ModelSpec("Tiny MLP", "MLP", True, mlp((8,)), quantize="int8", note="41-8-2, int8 weights"),
    ModelSpec("Tiny Hybrid", "Hybrid SVM+RF", True, hybrid(5, 6), quantize="int8",
              train_rows=5_000, note="tiny members; SVC trained on a 5,000-row sample"),
)
