"""Fold a per-feature monotone transform into tree thresholds, where that is exact.

sklearn routes a row left at a split on output j when ``g(x) <= t``, with
``g(x) = float32(ops(float64(x)))`` the scaler chain on the raw float32 value x and t the
float32-lowered threshold. Every op (check, *a, +a, -a, /a, clip) is monotone and IEEE rounding
is monotone, so g is monotone on the finite floats. A column is folded only when, in addition,
every intermediate value of ``ops(+-FLT_MAX)`` and ``g(+-FLT_MAX)`` are finite (so g is finite
everywhere, and no check fires for finite x) and +-inf is rejected by sklearn either way. Then
``{x : g(x) <= t}`` is ``x <= r`` (or its complement) for one float32 r, found by bisection over
the float32 ordering; the split becomes ``x <= r`` with the children swapped when g decreases
(or when no finite x goes left). NaN stays NaN through every op, so NaN routing is unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinycodegen.core.base import ModelMeta
from tinycodegen.core.bits import f32_from_sign_key as from_key
from tinycodegen.core.bits import f32_sign_key as key
from tinycodegen.core.preprocess import CodeOutput, InputTransform, NumericOutput, Op, run_ops
from tinycodegen.families.pipeline.ir import PipelineTreeIR
from tinycodegen.families.trees.ir import TreeEnsembleIR

FLT_MAX = np.float32(np.finfo(np.float32).max)


def g(ops: tuple[Op, ...], x: np.ndarray) -> np.ndarray:
    """float32 of the chain, as the tree sees it (for finite x of a foldable chain)."""
    z, _ = run_ops(ops, np.asarray(x, dtype=np.float32).astype(np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        return z.astype(np.float32)


def left_of(ops: tuple[Op, ...], x: np.ndarray, t: np.ndarray, wide: bool) -> np.ndarray:
    """The split's test on raw float32 x: ``g(x) <= t`` (float32 t), or with ``wide`` the
    chain's double against a double t (HistGradientBoosting, LightGBM)."""
    if not wide:
        return g(ops, x) <= t
    z, _ = run_ops(ops, np.asarray(x, dtype=np.float32).astype(np.float64))
    return z <= t


def accepts(ops: tuple[Op, ...], x: np.ndarray, inf_ok: bool = False) -> np.ndarray:
    """Finite x sklearn accepts: no scaler check fires and float32 of the result is finite
    (``inf_ok``: an estimator that takes an infinite float32 as a value, XGBoost)."""
    z, bad = run_ops(ops, np.asarray(x, dtype=np.float32).astype(np.float64))
    if inf_ok:
        return ~bad
    with np.errstate(over="ignore", invalid="ignore"):
        return ~bad & np.isfinite(z.astype(np.float32))


def _edge(ops: tuple[Op, ...], inside: np.float32, outside: np.float32,
          inf_ok: bool = False) -> np.float32:
    """The accepted float32 closest to ``outside`` on the way from ``inside`` (accepted)."""
    if accepts(ops, np.array([outside]), inf_ok)[0]:
        return outside
    a, b = int(key(np.array([inside]))[0]), int(key(np.array([outside]))[0])
    while abs(b - a) > 1:
        mid = (a + b) // 2
        if accepts(ops, from_key(np.array([mid])), inf_ok)[0]:
            a = mid
        else:
            b = mid
    return from_key(np.array([a]))[0]


def interval(ops: tuple[Op, ...], inf_ok: bool = False, wide: bool = False
             ) -> tuple[int, np.float32, np.float32] | None:
    """(direction of g, lowest, highest accepted finite x), or None if not foldable.

    Each op maps an interval monotonically (IEEE ops with finite nonzero constants, clip), so
    the finite x whose result sklearn accepts form one interval, g is monotone on it, and a
    raw x outside it is rejected by sklearn: the C rejects it with two comparisons. +-inf must
    be rejected by sklearn (a scaler check, or an infinite result) and NaN stays NaN.
    With ``inf_ok`` (an estimator taking an infinite float32 as a value: g may be +-inf on
    finite x, still monotone) only a scaler check rejects, and it must reject raw +-inf."""
    z, bad = run_ops(ops, np.array([-np.inf, np.inf]))
    with np.errstate(over="ignore", invalid="ignore"):
        if not (bad | (not inf_ok and np.isinf(z.astype(np.float32)))).all():
            return None  # sklearn would accept +-inf here: keep the computed value
    nan, _ = run_ops(ops, np.array([np.nan]))
    if not np.isnan(nan).all():  # pragma: no cover - every op propagates NaN
        return None
    seeds = np.array([0.0, 1.0, -1.0, 1e-30, -1e-30, 1e30, -1e30], dtype=np.float32)
    ok = accepts(ops, seeds, inf_ok)
    if not ok.any():
        return None
    x0 = seeds[int(np.argmax(ok))]
    lo, hi = _edge(ops, x0, -FLT_MAX, inf_ok), _edge(ops, x0, FLT_MAX, inf_ok)
    ends = (run_ops(ops, np.array([lo, hi], dtype=np.float64))[0] if wide
            else g(ops, np.array([lo, hi], dtype=np.float32)))
    return (1 if ends[0] <= ends[1] else -1), lo, hi


def direction(ops: tuple[Op, ...]) -> int:
    """+1 / -1: g is nondecreasing / nonincreasing on the accepted floats; 0: not foldable."""
    found = interval(ops)
    return 0 if found is None else found[0]


def fold_thresholds(ops: tuple[Op, ...], sign: int, t: np.ndarray,
                    lo: np.float32 = -FLT_MAX, hi: np.float32 = FLT_MAX, wide: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Raw thresholds r and a swap flag per split: for every accepted x (lo <= x <= hi),
    ``left_of(x)`` iff ``(x <= r) != swap``."""
    t = np.asarray(t, dtype=np.float64 if wide else np.float32)
    n = len(t)
    lo_k = np.full(n, key(np.array([lo]))[0], dtype=np.int64)
    hi_k = np.full(n, key(np.array([hi]))[0], dtype=np.int64)
    p_lo = left_of(ops, np.full(n, lo, np.float32), t, wide)
    p_hi = left_of(ops, np.full(n, hi, np.float32), t, wide)
    always_left = p_lo & p_hi
    always_right = ~p_lo & ~p_hi
    active = ~(always_left | always_right)
    while True:
        todo = active & (hi_k - lo_k > 1)
        if not todo.any():
            break
        mid = (lo_k + hi_k) // 2
        p_mid = left_of(ops, from_key(mid), t, wide)
        # keep pred(lo) != pred(hi): move the end whose predicate equals pred(mid)
        move_lo = todo & (p_mid == p_lo)
        lo_k = np.where(move_lo, mid, lo_k)
        hi_k = np.where(todo & ~move_lo, mid, hi_k)
    r = from_key(lo_k).copy()
    swap = np.full(n, sign < 0)
    r[always_left | always_right] = FLT_MAX
    swap[always_left] = False
    swap[always_right] = True
    # the split must now be exact at r and just above it (inside the accepted interval)
    with np.errstate(over="ignore"):
        nxt = np.nextafter(r, np.float32(np.inf))
    ok_r = (left_of(ops, r, t, wide) == ~swap) | (r == FLT_MAX)
    ok_n = (left_of(ops, nxt, t, wide) == swap) | (r >= hi)
    if not (ok_r & ok_n).all():  # pragma: no cover - guard on the monotonicity argument
        raise AssertionError("threshold folding is not exact")
    return r, swap


def preorder(roots: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """New id of every internal node so that each tree is stored in pre-order again."""
    new = np.full(len(left), -1, dtype=np.int64)
    nxt = 0
    for root in roots:
        stack = [int(root)]
        while stack:
            c = stack.pop()
            if c < 0:
                continue
            new[c] = nxt
            nxt += 1
            stack.append(int(right[c]))
            stack.append(int(left[c]))
    return new


def fold_into_trees(core: TreeEnsembleIR, transform: InputTransform, meta: ModelMeta,
                    inf_ok: bool = False, t64: np.ndarray | None = None
                    ) -> TreeEnsembleIR | PipelineTreeIR:
    """The fold; with ``t64`` (the library's double thresholds, per node) each split tests
    the chain's double against it (``left_of`` with ``wide``) instead of its float32."""
    wide = t64 is not None
    policy = "reject" if transform.sparse_output else core.meta.nan_policy
    used = set(np.unique(core.feature).tolist())
    signs: dict[int, tuple[int, np.float32, np.float32]] = {}
    computed: list[int] = []
    for j, out in enumerate(transform.outputs):
        if isinstance(out, NumericOutput):
            found = interval(out.ops, inf_ok, wide)
            if found is not None:
                signs[j] = found
            else:
                computed.append(j)
        elif j in used or not _finite32(out):
            computed.append(j)
    raw_src = np.asarray(sorted({transform.outputs[j].src for j in signs}), dtype=np.int32)
    slot = {j: int(np.searchsorted(raw_src, transform.outputs[j].src)) for j in signs}
    slot.update({j: len(raw_src) + k for k, j in enumerate(computed)})
    feature = core.feature.astype(np.int64)
    threshold = core.threshold.copy()
    swap = np.zeros(core.n_nodes, dtype=bool)
    raw_lo = np.full(len(raw_src), -FLT_MAX, dtype=np.float32)
    raw_hi = np.full(len(raw_src), FLT_MAX, dtype=np.float32)
    for j, (s, lo, hi) in signs.items():
        raw_lo[slot[j]] = max(raw_lo[slot[j]], lo)
        raw_hi[slot[j]] = min(raw_hi[slot[j]], hi)
        nodes = np.flatnonzero(feature == j)
        if len(nodes):
            cut = threshold[nodes] if t64 is None else t64[nodes]
            threshold[nodes], swap[nodes] = fold_thresholds(transform.outputs[j].ops, s,
                                                            cut, lo, hi, wide)
    left = np.where(swap, core.right, core.left).astype(np.int64)
    right = np.where(swap, core.left, core.right).astype(np.int64)
    nan_left = core.nan_left ^ swap
    new = preorder(core.roots, left, right)
    order = np.argsort(new)

    def renum(c: np.ndarray) -> np.ndarray:
        c = np.asarray(c, dtype=np.int64)
        if not len(new):  # single-leaf trees only
            return c.astype(np.int32)
        return np.where(c >= 0, new[np.maximum(c, 0)], c).astype(np.int32)

    width = len(raw_src) + len(computed)
    direct = (not computed and not transform.categorical and np.array_equal(
        raw_src, np.arange(transform.n_inputs)) and (raw_lo == -FLT_MAX).all()
        and (raw_hi == FLT_MAX).all())
    core_meta = (dataclasses.replace(meta, nan_policy=policy) if direct else
                 ModelMeta(n_features=width, classes=core.meta.classes,
                           estimator=core.meta.estimator, nan_policy=policy))
    folded = dataclasses.replace(
        core, meta=core_meta,
        feature=np.asarray([slot[int(f)] for f in feature[order]], dtype=np.int32),
        threshold=threshold[order].astype(np.float32),
        left=renum(left[order]), right=renum(right[order]), nan_left=nan_left[order],
        roots=renum(core.roots),
    )
    if direct:
        return folded
    prep = dataclasses.replace(transform, n_outputs=len(computed),
                               outputs=tuple(transform.outputs[j] for j in computed))
    return PipelineTreeIR(meta=dataclasses.replace(meta, nan_policy=policy), prep=prep,
                          raw_src=raw_src, core=folded, folded=len(signs), raw_lo=raw_lo,
                          raw_hi=raw_hi)


def _finite32(out: CodeOutput) -> bool:
    with np.errstate(over="ignore"):
        return bool(np.isfinite(out.table.astype(np.float32)).all())
