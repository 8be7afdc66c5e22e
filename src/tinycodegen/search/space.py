"""The candidates a search explores: model family x hyperparameters x quantization x layout.

Each candidate is plain data (family name, parameters, quantization), so it pickles to a Dask
worker and hashes into the result cache; :func:`build` turns it into an unfitted estimator,
using the study's NSL-KDD Pipelines (trees: MinMax scaling that folds into the thresholds;
linear models and MLPs: one-hot categoricals and MinMax-scaled numbers).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any

QUANTIZE = ("none", "int16", "int8")
LAYOUTS = ("none", "speed", "size")  # compile --optimize; "none": the default table layout
TREE_FAMILIES = ("DecisionTree", "RandomForest")  # the families with several layouts
# The IR kinds their candidates compile to (tests/test_search.py checks them against lower)
TREE_KINDS = {"none": "tree_ensemble", "quantized": "qtree_ensemble"}


@dataclass(frozen=True)
class Candidate:
    family: str  # a key of FAMILIES
    params: tuple[tuple[str, Any], ...] = field(default=())
    quantize: str = "none"
    optimize: str = "none"  # tree layout (float trees: speed, size; quantized: speed)

    @classmethod
    def from_result(cls, r: dict[str, Any]) -> Candidate:
        return cls(r["model"], tuple(r["params"].items()), r["quantize"],
                   r.get("optimize", "none"))

    @property
    def label(self) -> str:
        ps = ", ".join(f"{k}={v}" for k, v in self.params)
        extra = "".join(f" {v}" for v in (self.quantize, self.optimize) if v != "none")
        return f"{self.family}({ps}){extra}"

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.family, "params": dict(self.params), "quantize": self.quantize,
                "optimize": self.optimize}


def _tree(max_depth: int) -> Any:
    from sklearn.tree import DecisionTreeClassifier

    return "scale", DecisionTreeClassifier(max_depth=max_depth, random_state=0)


def _forest(n_estimators: int, max_depth: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    return "scale", RandomForestClassifier(n_estimators, max_depth=max_depth, random_state=0,
                                           n_jobs=1)


def _logreg(C: float) -> Any:  # noqa: N803 - sklearn's name
    from sklearn.linear_model import LogisticRegression

    return "onehot", LogisticRegression(C=C, max_iter=1000, random_state=0)


def _linear_svm(C: float) -> Any:  # noqa: N803
    from sklearn.svm import LinearSVC

    return "onehot", LinearSVC(C=C, max_iter=5000, random_state=0)


def _svc(C: float) -> Any:  # noqa: N803
    from sklearn.svm import SVC

    return "onehot", SVC(kernel="rbf", C=C)


def _mlp(hidden: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return "onehot", MLPClassifier((hidden,), max_iter=60, random_state=0)


# family -> (builder, parameter grid, quantizations that family supports)
FAMILIES: dict[str, tuple[Any, dict[str, tuple[Any, ...]], tuple[str, ...]]] = {
    "DecisionTree": (_tree, {"max_depth": (4, 6, 8, 10, 12)}, QUANTIZE),
    "RandomForest": (_forest, {"n_estimators": (3, 5, 10, 20), "max_depth": (4, 6, 8)}, QUANTIZE),
    "LogisticRegression": (_logreg, {"C": (0.1, 1.0, 10.0)}, QUANTIZE),
    "LinearSVC": (_linear_svm, {"C": (0.1, 1.0)}, QUANTIZE),
    "MLP": (_mlp, {"hidden": (4, 8, 16)}, QUANTIZE),
    "SVC": (_svc, {"C": (1.0, 10.0)}, QUANTIZE),
}
# Families whose training cost grows too fast for the whole split: a stratified subsample.
MAX_TRAIN_ROWS = {"SVC": 2_000}


def build(c: Candidate) -> Any:
    """The unfitted estimator of a candidate (a Pipeline taking the NSL-KDD loader's codes)."""
    from tinycodegen.study.models import _pipe

    fn = FAMILIES[c.family][0]
    kind, est = fn(**dict(c.params))
    return _pipe(kind, est)


def tree_layouts(quantize: str) -> tuple[str, ...]:
    """The layouts a tree candidate takes under ``quantize``: "none" (the table) and each
    ``--optimize`` layout the registry has for the IR kind the candidate compiles to (float:
    speed and size; quantized: speed)."""
    from tinycodegen.families.registry import native_backends

    kind = TREE_KINDS["none" if quantize == "none" else "quantized"]
    return ("none", *(o for o in LAYOUTS if o != "none" and o in native_backends(kind)))


def default_space(families: tuple[str, ...] | None = None,
                  quantize: tuple[str, ...] = QUANTIZE,
                  layouts: tuple[str, ...] = LAYOUTS) -> list[Candidate]:
    """Every family x parameter x quantization; trees also in each layout of their (float or
    quantized) kind that ``layouts`` names (:func:`tree_layouts`)."""
    out = []
    for fam, (_, grid, qs) in FAMILIES.items():
        if families is not None and fam not in families:
            continue
        names = list(grid)
        for values in product(*(grid[n] for n in names)):
            params = tuple(zip(names, values, strict=True))
            for q in qs:
                if q not in quantize:
                    continue
                opts = tree_layouts(q) if fam in TREE_FAMILIES else ("none",)
                out += [Candidate(fam, params, q, o) for o in opts if o in layouts or o == "none"]
    return out
