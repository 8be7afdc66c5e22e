"""The one explicit table of model families.

Each family folder declares itself once, as ``FAMILY = Family(...)`` in its ``family.py``; the
tuple :data:`FAMILIES` below lists them all, and every dispatch (estimator -> loader, IR kind ->
emitters and quantizer) reads this table. Nothing is discovered by module names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    """

    name: str
    estimators: Mapping[str, Loader]
    kinds: tuple[str, ...]
    emitters: Mapping[tuple[str, str], Emitter]
    quantizers: Mapping[str, Quantizer] = field(default_factory=dict)
    refusals: Mapping[str, str] = field(default_factory=dict)
    docs: tuple[str, ...] = ()


def families() -> tuple[Family, ...]:
    """Every family, in a fixed order (imported on first use)."""
    return ()
