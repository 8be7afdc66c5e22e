"""The one explicit table of model families, and the dispatch that reads it.

Each family folder declares itself once, as ``FAMILY = Family(...)`` in its ``family.py``; the
tuple :func:`families` below lists them all, and every dispatch (estimator -> loader, IR kind ->
emitters and quantizer) reads this table. Nothing is discovered by module names.

Adding a family ``NAME``: a folder ``families/NAME/`` with ``__init__.py``, ``loader.py``
(reads the estimator only; composites load members through ``tinycodegen.lower.load``),
``ir.py`` (frozen dataclass with ``kind`` and a NumPy ``reference``; ``lowered(run)`` if a pass
applies; the member protocol of ``core/members.py`` if it can be a Voting / Stacking /
Calibrated member), the emitter module(s), ``templates/`` (C templates, names unique across
families), a quantizer or a refusal, its proof page(s), and ``family.py`` with
``FAMILY = Family(...)``; then one line in :func:`families`. ``tests/test_registry.py`` checks
the declaration.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tinycodegen.errors import TinycodegenError, UnsupportedModelError

Loader = Callable[[Any], Any]  # fitted estimator -> IR
Emitter = Callable[[Any, str], Any]  # (IR, name) -> CSource
Quantizer = Callable[..., Any]  # (IR, mode, *, calibration=None) -> quantized IR


@dataclass(frozen=True)
class Family:
    """What one model family brings.

    ``estimators``: estimator class key -> loader. The key is the scikit-learn class name
    (``"RandomForestClassifier"``) or, for other libraries, ``"<top module>.<class name>"``
    (``"xgboost.XGBClassifier"``).
    ``emitters``: (IR kind, backend or layout) -> emitter.
    ``quantizers``: IR kind -> quantizer; ``refusals``: IR kind -> the one-line reason a kind
    has no quantizer. Every kind the family's loaders produce has exactly one of the two.
    ``docs``: the family's proof pages (paths relative to its folder).
    ``irs``: IR kind -> the IR class (a frozen dataclass with a NumPy ``reference``). The C
    templates of a family live in its folder's ``templates/`` (``core.csource.render``).
    """

    name: str
    estimators: Mapping[str, Loader]
    kinds: tuple[str, ...]
    emitters: Mapping[tuple[str, str], Emitter]
    quantizers: Mapping[str, Quantizer] = field(default_factory=dict)
    refusals: Mapping[str, str] = field(default_factory=dict)
    docs: tuple[str, ...] = ()
    irs: Mapping[str, type] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return f"tinycodegen.families.{self.name}"


DEFAULT_BACKEND = "table"
# Layouts ``--optimize`` picks for IR kinds that have them (tree ensembles); others keep
# their one native layout.
OPTIMIZE_MODES = ("speed", "size")
QUANTIZE_MODES = ("int8", "int16")


@cache
def families() -> tuple[Family, ...]:
    """Every family, in a fixed order (imported on first use)."""
    from tinycodegen.families.boosted.family import FAMILY as boosted
    from tinycodegen.families.calibrated.family import FAMILY as calibrated
    from tinycodegen.families.envelope.family import FAMILY as envelope
    from tinycodegen.families.hybrid.family import FAMILY as hybrid
    from tinycodegen.families.iforest.family import FAMILY as iforest
    from tinycodegen.families.linear.family import FAMILY as linear
    from tinycodegen.families.lof.family import FAMILY as lof
    from tinycodegen.families.mlp.family import FAMILY as mlp
    from tinycodegen.families.ocsvm.family import FAMILY as ocsvm
    from tinycodegen.families.pipeline.family import FAMILY as pipeline
    from tinycodegen.families.svm.family import FAMILY as svm
    from tinycodegen.families.trees.family import FAMILY as trees

    return (trees, linear, mlp, svm, calibrated, hybrid, pipeline, iforest, ocsvm, envelope,
            lof, boosted)


def _merged(part: Callable[[Family], Mapping[Any, Any]], what: str) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for fam in families():
        for key, value in part(fam).items():
            if key in out:
                raise RuntimeError(f"{what} {key!r} is claimed twice (family {fam.name})")
            out[key] = value
    return out


@cache
def loaders() -> dict[str, Loader]:
    """Estimator class key -> loader, over every family."""
    return _merged(lambda f: f.estimators, "estimator")


@cache
def emitters() -> dict[tuple[str, str], Emitter]:
    """(IR kind, backend) -> emitter, over every family."""
    return _merged(lambda f: f.emitters, "emitter")


@cache
def quantizers() -> dict[str, Quantizer]:
    """IR kind -> quantizer, over every family."""
    return _merged(lambda f: f.quantizers, "quantizer")


# ---- estimator -> IR ------------------------------------------------------------------------
def supported() -> list[str]:
    return sorted(loaders())


def load_ir(model: Any) -> Any:
    """The loaded IR of a fitted estimator (its family's loader only: no passes, see
    ``tinycodegen.lower``); one clear error for anything unsupported or unfitted."""
    from tinycodegen.core.classes import sklearn_class
    from tinycodegen.core.loading import require_fitted

    name = sklearn_class(model)
    loader = loaders().get(name)
    if loader is None:
        raise UnsupportedModelError(
            f"unsupported estimator {name}; supported: {', '.join(supported())}"
        )
    require_fitted(model, name)
    return loader(model)


# ---- IR -> quantized IR ---------------------------------------------------------------------
def quantizable_kinds() -> list[str]:
    return sorted(quantizers())


def quantize(ir: Any, mode: str, calibration: Any = None) -> Any:
    """The quantized IR of ``ir``; one clear error for an unknown mode or a refused kind.

    ``calibration`` (training-data facts, ``core.qnet_common.Calibration``) goes to quantizers
    that take a ``calibration`` keyword (linear models, MLPs); the others ignore it."""
    if mode not in QUANTIZE_MODES:
        raise TinycodegenError(
            f"unknown quantization {mode!r}; choose from {', '.join(QUANTIZE_MODES)}"
        )
    fn = quantizers().get(ir.kind)
    if fn is None:
        estimator = getattr(getattr(ir, "meta", None), "estimator", ir.kind)
        have = ", ".join(quantizable_kinds()) or "none"
        raise TinycodegenError(
            f"--quantize {mode} is not available for {estimator} ({ir.kind} models); "
            f"quantizable model kinds: {have}"
        )
    if calibration is not None and "calibration" in inspect.signature(fn).parameters:
        return fn(ir, mode, calibration=calibration)
    return fn(ir, mode)


# ---- IR -> C --------------------------------------------------------------------------------
def native_backends(kind: str | None = None) -> list[str]:
    return sorted({b for (k, b) in emitters() if kind is None or k == kind})


def emit(ir: Any, name: str, backend: str = DEFAULT_BACKEND) -> Any:
    """The C of ``ir`` in ``backend``'s layout, through the double guard."""
    fn = emitters().get((ir.kind, backend))
    if fn is None:
        have = ", ".join(native_backends(ir.kind)) or "none"
        raise TinycodegenError(
            f"backend {backend!r} cannot compile a {ir.kind} model (available: {have})"
        )
    from tinycodegen.core.double_guard import guard_double

    return guard_double(fn(ir, name))
