"""The explicit family registry (families/registry.py) is complete and consistent, and only the
modules that read or run the libraries import scikit-learn, xgboost or lightgbm."""

from __future__ import annotations

import ast
import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from tinycodegen.families.registry import (
    emitters,
    families,
    loaders,
    native_backends,
    quantizable_kinds,
    quantizers,
    supported,
)

SRC = Path(__file__).resolve().parents[1] / "src" / "tinycodegen"
LIBRARIES = {"sklearn", "xgboost", "lightgbm"}

# Modules (relative to src/tinycodegen) allowed to import LIBRARIES, with the reason for each.
# Every family's loader module(s) are allowed as well (family_loader_modules below).
ALLOWED = {
    # the core loading and recognition modules
    "core/classes.py": "recognises an estimator's real scikit-learn class",
    "core/loading.py": "asks a fitted estimator for its NaN policy and whether it is fitted",
    "core/detect.py": "sklearn's own is_outlier_detector decides what is a detector",
    "core/calibration.py": "reads the training ranges a fitted model's scalers recorded",
    # the places that run scikit-learn on purpose
    "check.py": "compares the C with the library's own predictions",
    "data.py": "reads a DataFrame's columns the way the fitted model validates them",
    "datasets/nsl_kdd.py": "loads and encodes the benchmark data",
    "backends/emlearn_backend.py": "comparison backend: runs another converter on the model",
    "backends/m2cgen_backend.py": "comparison backend: runs another converter on the model",
    "backends/wrapping.py": "comparison backends: splits a Pipeline into its steps",
    "search/evaluate.py": "trains and scores candidate models",
    "search/run.py": "trains and scores candidate models",
    "search/space.py": "builds the candidate estimators",
    "study/figures.py": "the study trains and measures models",
    "study/metrics.py": "the study trains and measures models",
    "study/models.py": "the study trains and measures models",
    "study/run.py": "the study trains and measures models",
}


def family_loader_modules() -> set[str]:
    """Every module of a family that its loaders live in (from the loaders' __module__), and
    the loader package's helpers beside them (``steps.py`` of the pipeline loader)."""
    out = set()
    for fam in families():
        for loader in fam.estimators.values():
            mod = getattr(loader, "__module__", None) or loader.func.__module__
            out.add(mod.removeprefix("tinycodegen.").replace(".", "/") + ".py")
    out.add("families/pipeline/steps.py")  # the Pipeline loader's per-step reader
    return out


def imported_libraries(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & LIBRARIES


def test_every_family_declares_loader_reference_emitter_and_quantizer_or_refusal() -> None:
    fams = families()
    assert len({f.name for f in fams}) == len(fams)
    for fam in fams:
        assert fam.estimators, fam.name
        assert (Path(SRC / "families" / fam.name / "family.py")).is_file(), fam.name
        for doc in fam.docs:
            assert (SRC / "families" / fam.name / doc).is_file(), (fam.name, doc)
        for kind in fam.kinds:
            ir_class = fam.irs.get(kind)
            assert ir_class is not None, (fam.name, kind)
            assert callable(getattr(ir_class, "reference", None)), (fam.name, kind)
            default = {f.name: f.default for f in dataclasses.fields(ir_class)}["kind"]
            assert default == kind, (fam.name, kind, default)
            assert any(k == kind for k, _ in fam.emitters), (fam.name, kind)
            assert (kind in fam.quantizers) != (kind in fam.refusals), (fam.name, kind)
            assert kind not in fam.refusals or fam.refusals[kind].strip(), (fam.name, kind)
        # a family only claims emitters, quantizers and refusals for its own kinds
        assert {k for k, _ in fam.emitters} <= set(fam.kinds), fam.name
        assert set(fam.quantizers) | set(fam.refusals) <= set(fam.kinds), fam.name


def test_no_estimator_kind_or_emitter_is_claimed_twice() -> None:
    keys = Counter(k for f in families() for k in f.estimators)
    assert [k for k, n in keys.items() if n > 1] == []
    kinds = Counter(k for f in families() for k in f.kinds)
    assert [k for k, n in kinds.items() if n > 1] == []
    pairs = Counter(p for f in families() for p in f.emitters)
    assert [p for p, n in pairs.items() if n > 1] == []
    # the merged tables hold exactly the declarations
    assert len(loaders()) == sum(keys.values()) and supported() == sorted(keys)
    assert len(emitters()) == sum(pairs.values())
    assert quantizable_kinds() == sorted(quantizers())
    assert set(native_backends()) == {"table", "inline", "speed", "size"}
    assert native_backends("tree_ensemble") == ["inline", "size", "speed", "table"]


def test_templates_are_found_once_each() -> None:
    from tinycodegen.core.csource import _templates

    on_disk = sorted(p.name for p in SRC.rglob("templates/*.tmpl"))
    assert sorted(_templates()) == on_disk
    assert len(set(on_disk)) == len(on_disk)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_only_loaders_and_library_runners_import_the_libraries(path: Path) -> None:
    rel = str(path.relative_to(SRC))
    allowed = rel in ALLOWED or rel in family_loader_modules()
    assert allowed or not imported_libraries(path), (
        f"{rel} imports {sorted(imported_libraries(path))}: only loaders and the modules in "
        "ALLOWED may")


def test_the_allowed_list_names_real_modules() -> None:
    for rel in [*ALLOWED, *family_loader_modules()]:
        assert (SRC / rel).is_file(), rel


def test_loaders_only_load_and_lower_runs_the_passes() -> None:
    """registry.load_ir is the family loader alone (leaves as sklearn stores them, a Pipeline's
    transform pending); lower.load runs the passes (dedup, the fold); lower.lower emits what
    tinycodegen.compile emits."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    import tinycodegen
    from tinycodegen.families.registry import load_ir
    from tinycodegen.lower import load, lower

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32).astype(np.float64)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    rf = RandomForestClassifier(5, max_depth=4, random_state=0).fit(X, y)
    raw, low = load_ir(rf), load(rf)
    assert raw.n_leaves > low.n_leaves == len(np.unique(low.leaf_values, axis=0))
    assert (raw.reference(X).proba == low.reference(X).proba).all()
    assert load(rf).leaf_values.tobytes() == low.lowered(load).leaf_values.tobytes()  # idempotent
    pipe = Pipeline([("s", StandardScaler()), ("rf", rf)]).fit(X, y)
    pending = load_ir(pipe)
    assert pending.kind == "tree_ensemble" and pending.fold is not None
    folded = load(pipe)
    assert folded.fold is None if folded.kind == "tree_ensemble" else folded.kind == "pipeline_tree"
    for model in (rf, pipe):
        ir, source = lower(model, name="m", optimize="size", quantize=None)
        assert source.files == tinycodegen.compile(model, name="m", optimize="size").source.files
        assert ir.kind == folded.kind if model is pipe else ir.kind == "tree_ensemble"
