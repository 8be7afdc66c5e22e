"""``python -m tinycodegen study``: train, compile, check, measure and report the study's models."""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tinycodegen
from tinycodegen.build import cache_root
from tinycodegen.check import check
from tinycodegen.core.detect import is_detector
from tinycodegen.datasets import nsl_kdd
from tinycodegen.errors import TinycodegenError
from tinycodegen.report.collect import DEFAULT_BUDGET
from tinycodegen.study.metrics import binary_metrics
from tinycodegen.study.models import SPECS, ModelSpec

OPTIONAL_LIBRARIES = ("xgboost", "lightgbm")


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Split:
    label: str
    X: np.ndarray  # float32 loader codes, the C input
    frame: Any  # what sklearn's Pipeline takes
    y: np.ndarray


@dataclass
class ModelResult:
    spec: ModelSpec
    train_s: float | None = None  # None: reused from a cache that did not record it
    compile_s: float = 0.0
    error: str | None = None
    parity: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # split -> from the C
    sklearn_metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    outputs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # for figures
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    m2cgen: dict[str, Any] = field(default_factory=dict)  # {"error"} or {"parity", "targets"}


def _take(ds: nsl_kdd.NslKdd, idx: np.ndarray | None, label: str) -> Split:
    frame = ds.X.astype(np.float64)  # the study's Pipelines take the loader's codes
    if idx is None:
        return Split(label, ds.X, frame, ds.y)
    return Split(label, ds.X[idx], frame[idx], ds.y[idx])


def _subsample(y: np.ndarray, n: int | None, seed: int) -> np.ndarray | None:
    if n is None or n >= len(y):
        return None
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return np.sort(idx)


def load_splits(seed: int, limit: int | None) -> tuple[Split, Split, dict[str, Split]]:
    """Training data, the 80% split for the random-split models, and the evaluation sets."""
    from sklearn.model_selection import train_test_split

    train = nsl_kdd.load("train")
    sub = _subsample(train.y, limit, seed)
    full = _take(train, sub, "KDDTrain+")
    idx = np.arange(len(full.y))
    tr, te = train_test_split(idx, test_size=0.2, stratify=full.y, random_state=seed)
    split_train = Split("KDDTrain+ 80%", full.X[tr], full.frame[tr], full.y[tr])
    evals = {}
    for key, label in (("test", "KDDTest+"), ("test21", "KDDTest-21")):
        ds = nsl_kdd.load(key)
        evals[label] = _take(ds, _subsample(ds.y, limit, seed), label)
    evals["KDDTrain+ 20% (random split)"] = Split(
        "KDDTrain+ 20% (random split)", full.X[te], full.frame[te], full.y[te])
    return full, split_train, evals


def train_cached(spec: ModelSpec, data: Split, seed: int) -> tuple[Any, float | None]:
    import joblib
    import sklearn

    h = hashlib.sha256()
    h.update(repr(spec.build(seed)).encode())
    h.update(f"{spec.train_rows}|{seed}|{sklearn.__version__}".encode())
    lib = _library_versions(spec.build(seed))
    if lib:  # xgboost / lightgbm (the sklearn models' keys stay as they were)
        h.update(lib.encode())
    h.update(np.ascontiguousarray(data.X).tobytes())
    h.update(data.y.tobytes())
    path = cache_root() / "study" / "models" / f"{h.hexdigest()[:20]}.joblib"
    seconds_file = path.with_suffix(".seconds")
    if path.is_file():  # reused: report the time the fit took when it was made
        took = float(seconds_file.read_text()) if seconds_file.is_file() else None
        return joblib.load(path), took
    if spec.detector:  # the normal rows only (a seeded sample of them), no labels
        normal = np.flatnonzero(data.y == 0)
        if spec.train_rows is not None and spec.train_rows < len(normal):
            normal = np.sort(np.random.default_rng(seed).choice(normal, spec.train_rows,
                                                                replace=False))
        frame, y = data.frame[normal], None
    else:
        idx = _subsample(data.y, spec.train_rows, seed)
        frame = data.frame if idx is None else data.frame[idx]
        y = data.y if idx is None else data.y[idx]
    t0 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = spec.build(seed).fit(frame) if y is None else spec.build(seed).fit(frame, y)
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    seconds_file.write_text(f"{seconds:.3f}\n")
    return model, seconds


def _library_versions(est: Any) -> str:
    """The version of the library an estimator comes from when it is not sklearn."""
    top = type(est).__module__.partition(".")[0]
    return "" if top == "sklearn" else f"{top} {getattr(sys.modules.get(top), '__version__', '')}"


def c_outputs(compiled: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The C's class indices and a score for ROC AUC (P(attack), else the decision value)."""
    pred = compiled.predict_index(X)
    fns = dict(f.partition(":")[::2] for f in compiled.source.extra_functions)
    if is_detector(compiled.model):  # index 0 = outlier = attack; lower decision = attack
        dec = compiled.call("decision_function", X)[:, 0].astype(np.float64)
        return np.where(pred < 0, -1, 1 - pred), -dec
    if hasattr(compiled.model, "predict_proba") and _has_proba(compiled.model):
        return pred, compiled.predict_proba(X)[:, 1].astype(np.float64)
    if "decision_function" in fns:
        return pred, compiled.call("decision_function", X)[:, -1].astype(np.float64)
    return pred, None


def _has_proba(model: Any) -> bool:
    try:
        model.predict_proba  # noqa: B018 - raises AttributeError where unavailable
    except AttributeError:
        return False
    return True


def sklearn_outputs(model: Any, frame: Any) -> tuple[np.ndarray, np.ndarray | None]:
    pred = np.asarray(model.predict(frame)).astype(int)
    if is_detector(model):  # sklearn -1 = outlier = attack
        return (pred == -1).astype(int), -np.asarray(model.decision_function(frame))
    if _has_proba(model):
        return pred, model.predict_proba(frame)[:, 1]
    if hasattr(model, "decision_function"):
        return pred, np.asarray(model.decision_function(frame)).reshape(len(pred), -1)[:, -1]
    return pred, None


def evaluate(spec: ModelSpec, model: Any, evals: dict[str, Split], split_model: Any,
             res: ModelResult) -> Any:
    name = "".join(c if c.isalnum() else "_" for c in spec.name.lower())
    t0 = time.perf_counter()
    compiled = tinycodegen.compile(model, name=name, quantize=spec.quantize,
                                   optimize=spec.optimize)
    compiled.native  # build now, so compile time includes the C compiler  # noqa: B018
    res.compile_s = time.perf_counter() - t0
    test = evals["KDDTest+"]
    rep = check(compiled, test.X, X_sklearn=test.frame, data="KDDTest+")
    res.parity = rep.to_dict()
    for label, data in evals.items():
        use = compiled
        if label.startswith("KDDTrain+ 20%"):
            use = tinycodegen.compile(split_model, name=name + "_split", quantize=spec.quantize,
                                      optimize=spec.optimize)
        pred, score = c_outputs(use, data.X)
        res.metrics[label] = binary_metrics(data.y, pred, score)
        res.outputs[label] = {"pred": pred, "score": score, "y": data.y}
        sk_pred, sk_score = sklearn_outputs(use.model, data.frame)
        res.sklearn_metrics[label] = binary_metrics(data.y, sk_pred, sk_score)
    return compiled


def measure_targets(compiled: Any, X: np.ndarray, targets: tuple[str, ...], rows: int | None,
                    res: ModelResult, budget: int | None = None) -> None:
    res.targets.update(target_figures(compiled, X, targets, rows, budget))


def target_figures(compiled: Any, X: np.ndarray, targets: tuple[str, ...], rows: int | None,
                   budget: int | None) -> dict[str, dict[str, Any]]:
    from tinycodegen.report.collect import model_dir
    from tinycodegen.targets import measure

    folder = model_dir(compiled)
    host = compiled.predict_index(X)
    figures: dict[str, dict[str, Any]] = {}
    for target in targets:
        say(f"    measuring {target} ...")
        try:
            m = measure(folder, compiled.name, X, target, max_rows=rows, labels=host,
                        budget=None if target == "host" else budget)
        except TinycodegenError as exc:
            figures[target] = {"error": str(exc)}
            continue
        idx = m.row_indices if m.row_indices is not None else np.arange(len(X))
        figures[target] = {
            "flash": m.flash_bytes, "ram": m.ram_bytes, "stack": m.stack_bytes,
            "cycles_mean": m.cycles_mean, "cycles_max": m.cycles_max,
            "cycles_range": m.cycles_range, "cycle_model": m.cycle_model, "rows": m.rows,
            "sample_note": m.sample_note, "fits": m.fits, "fit_note": m.fit_note,
            "agrees_with_host": None if m.predictions is None  # sized only: does not fit
            else bool(np.array_equal(np.asarray(m.predictions), host[idx])),
        }
    return figures


def compare_m2cgen(compiled: Any, test: Split, targets: tuple[str, ...], rows: int | None,
                   budget: int | None) -> dict[str, Any]:
    """The same model through the m2cgen comparison backend: its mismatches with the library
    on KDDTest+ and its flash / cycles, or the one line saying why m2cgen cannot convert it."""
    try:
        other = tinycodegen.compile(compiled.model, name=compiled.name + "_m2c",
                                    backend="m2cgen")
        rep = check(other, test.X, X_sklearn=test.frame, data="KDDTest+")
    except TinycodegenError as exc:
        return {"error": str(exc)}
    return {"parity": rep.to_dict(), "targets": target_figures(other, test.X, targets, rows,
                                                               budget)}


def run_study(out: Path, *, seed: int = 0, limit: int | None = None,
              measure_rows: int | None = None, budget: int | None = DEFAULT_BUDGET,
              targets: tuple[str, ...] = ("cortex-m4f", "cortex-m0plus"),
              only: tuple[str, ...] | None = None) -> list[ModelResult]:
    """Train, compile, check, measure and report the study's models into ``out``.

    MCU figures: every KDDTest+ row (or a seeded stratified sample of ``measure_rows``), and
    where a build would emulate more than ``budget`` instructions, a fixed stratified prefix
    of them (the rows measured are in the report)."""
    from tinycodegen.study.write import write_study

    t_start = time.perf_counter()
    say("loading NSL-KDD ...")
    full, split_train, evals = load_splits(seed, limit)
    specs = [s for s in SPECS if only is None or s.name in only]
    results = []
    for i, spec in enumerate(specs, 1):
        res = ModelResult(spec)
        results.append(res)
        say(f"[{i}/{len(specs)}] {spec.name}: training ({time.perf_counter() - t_start:.0f}s)")
        try:
            model, res.train_s = train_cached(spec, full, seed)
            split_model, _ = train_cached(spec, split_train, seed)
            say(f"[{i}/{len(specs)}] {spec.name}: compiling and checking")
            compiled = evaluate(spec, model, evals, split_model, res)
            measure_targets(compiled, evals["KDDTest+"].X, targets, measure_rows, res, budget)
            if spec.m2cgen:
                say(f"[{i}/{len(specs)}] {spec.name}: m2cgen for comparison")
                res.m2cgen = compare_m2cgen(compiled, evals["KDDTest+"], targets, measure_rows,
                                            budget)
        except TinycodegenError as exc:
            res.error = str(exc)
            say(f"[{i}/{len(specs)}] {spec.name}: NOT COMPILED: {exc}")
        except ImportError as exc:  # the boosted rows' libraries are an optional extra
            if exc.name not in OPTIONAL_LIBRARIES:
                raise
            res.error = f"{exc.name} is not installed: pip install -e \".[boost]\""
            say(f"[{i}/{len(specs)}] {spec.name}: NOT COMPILED: {res.error}")
    say(f"writing report to {out} ({time.perf_counter() - t_start:.0f}s)")
    write_study(results, out, meta={"seed": seed, "limit": limit, "measure_rows": measure_rows,
                                    "budget": budget,
                                    "seconds": time.perf_counter() - t_start,
                                    "targets": list(targets)})
    return results
