"""A linear model's float fast path taken straight from the raw input, its transform folded in.

Without folding, a Pipeline's linear model runs the transform in double (sklearn's operations,
bit for bit), narrows the result to float and only then tries the fast path: on a Cortex-M4F
that is about 20 times the cost of the dot product itself (soft double). Folding lets predict
decide most rows from the raw float32 input ``x``, before any double arithmetic:

* a numeric output ``z_j = ops_j(x_src)`` whose ops are all scalings and shifts (check, mul, add,
  sub, div: MinMaxScaler, StandardScaler, MaxAbsScaler, ...) is affine, ``alpha_j x + beta_j``
  in exact arithmetic; its weight folds into ``wr[src] = fl32(w_j alpha_j)`` and ``w_j beta_j``
  into the intercept;
* a categorical input's outputs (one-hot columns, ordinal codes, scaled or not) fold into one
  float table per score, ``t[code] = fl32(sum_j w_j table_j[code])``, added to lane 0 after the
  intercept in categorical-input order.

Error bound (per score; u = 2**-24, v = 2**-53). sklearn's transform rounds each of the n_j ops
once, and by induction on the chain ``|z_j - (alpha_j x + beta_j)| <= g_j (|alpha_j x| + B_j)``
with ``g_j = (1 + v)**n_j - 1`` and B_j the chain run on |constants| (scalings multiply, shifts
add). Folded weights, intercept and table entries are rounded once from exact rationals
(relative error <= u + v each). So every term of the fast sum is within a relative
``c = u + v + g (1 + u + v)`` of its exact counterpart, plus the absolute
``sum_j |w_j| g_j B_j``; the summation is the lane sum of
:mod:`tinycodegen.families.linear.ir` whose
lane 0 also takes the categorical adds (height + number of categorical inputs). sklearn's own
double rounding, ``gamma_{n+1}(v)(|b| + sum_j |w_j z_j|)``, is bounded by the same K times a
(its x-dependent part) plus a constant (intercept, the |beta| and B parts, and per categorical
input the largest sum of |w_j table_j| over its codes). Hence ``|s - sklearn's score| <= K a + D``
with the constants below; the C compares exactly as the unfolded fast path does.

Folded intercepts and table values below the smallest normal float are stored as 0 and D gains
2**-126 for each (L2 decay leaves subnormal weights on inputs constant in training: see
ir/mlp.py). A folded numeric weight that small is stored as 0 too; its term is below
2**-126 |x|, so its column is *guarded*: the fast path takes a row only when |x| <= 2**64 there,
and D gains 2**-62 per guarded column.

Folding is off (the model keeps the transform-then-narrow fast path) when a chain clips, a raw
column feeds more than one numeric output or is both categorical and numeric, or a folded
constant is not a normal float.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from tinycodegen.core.numerics import (
    AMAX,
    U32,
    U64,
    bound_const,
    gamma,
    lane_dot32,
    lane_height,
    normal_or_zero32,
)
from tinycodegen.core.preprocess import CodeOutput, InputTransform, NumericOutput, Opcode


@dataclass(frozen=True, eq=False)
class FoldedFast:
    """Constants of the folded fast path (float32 unless noted)."""

    wr: np.ndarray  # (k, n_raw): folded weight per raw column, 0 where no numeric output reads it
    br: np.ndarray  # (k,): folded intercept
    cat_src: tuple[int, ...]  # raw column of each categorical input
    guarded: tuple[int, ...]  # raw columns whose folded weight was flushed: |x| <= XG required
    tables: tuple[np.ndarray, ...]  # per categorical input, (k, K + 1): code -1 first
    reject: tuple[np.ndarray, ...]  # per categorical input, bool (K + 1,)
    k: np.float32
    d: np.float32
    # per categorical input, int (K + 1,): the one output column z_j = 1 that code selects
    # (-1: none), so that tables[i][c, code + 1] is _f32(coef[c, j]) (0 for -1); None when a
    # table is not of that one-hot form. The C then reads the exact path's double weight
    # instead of storing the table (tcg_f32_flush, tcg_eft.h).
    cols: tuple[np.ndarray, ...] | None = None


def _affine(ops: tuple) -> tuple[Fraction, Fraction, float, int] | None:
    """(alpha, beta, B, rounded op count) of an affine op chain, or None if it is not affine."""
    alpha, beta, babs, n = Fraction(1), Fraction(0), 0.0, 0
    for op, a, _ in ops:
        if op == Opcode.CHECK:
            continue
        if not np.isfinite(a) or (op == Opcode.DIV and a == 0.0):
            return None
        fa = Fraction(a)
        n += 1
        if op == Opcode.MUL:
            alpha, beta, babs = alpha * fa, beta * fa, babs * abs(a)
        elif op == Opcode.DIV:
            alpha, beta, babs = alpha / fa, beta / fa, babs / abs(a)
        elif op == Opcode.ADD:
            beta, babs = beta + fa, babs + abs(a)
        elif op == Opcode.SUB:
            beta, babs = beta - fa, babs + abs(a)
        else:
            return None
    if abs(float(alpha)) * 2.0**128 + babs > 2.0**1000:
        return None  # z could overflow in double (the full path rejects) while x is finite
    return alpha, beta, babs * (1.0 + 2.0**-40), n


def _f32(v: Fraction) -> float:
    """v rounded to float, or 0.0 below the normal range (the caller adds the 2**-126 that
    flushing can lose to its bound; the relative error u + v holds for what is kept)."""
    return 0.0 if abs(v) < TINY else float(np.float32(float(v)))


TINY = Fraction(2) ** -126  # smallest normal float
XG = 2.0**64  # a column whose folded weight is flushed takes the fast path only for |x| <= XG


def fold_linear(coef: np.ndarray, intercept: np.ndarray,
                transform: InputTransform) -> FoldedFast | None:
    """The folded fast path of scores ``coef @ transform(x) + intercept``, or None."""
    k = coef.shape[0]
    n_raw = transform.n_inputs
    cat_src = tuple(c.index for c in transform.categorical)
    wr = np.zeros((k, n_raw), dtype=np.float64)
    seen: set[int] = set()
    br = [Fraction(float(b)) for b in intercept]
    const = np.abs(intercept).astype(np.float64)  # sklearn-band constant per score
    absd = np.zeros(k)  # sum |w_j| g_j B_j
    g_max = 0.0
    code_cols: dict[int, list[int]] = {s: [] for s in cat_src}
    guarded: set[int] = set()
    for j, out in enumerate(transform.outputs):
        if isinstance(out, CodeOutput):
            code_cols[out.src].append(j)
            continue
        assert isinstance(out, NumericOutput)
        aff = _affine(out.ops)
        if aff is None or out.src in seen or out.src in code_cols:
            return None
        seen.add(out.src)
        alpha, beta, babs, n_ops = aff
        g = (1.0 + U64) ** n_ops - 1.0 + n_ops * 2.0**-100 if n_ops else 0.0
        g_max = max(g_max, g)
        for c in range(k):
            w = Fraction(float(coef[c, j]))
            if w * alpha != 0 and abs(w * alpha) < TINY:
                guarded.add(out.src)  # flushed to 0: |w alpha x| < 2**-126 XG, x guarded
            wr[c, out.src] = _f32(w * alpha)
            br[c] += w * beta
            const[c] += abs(float(coef[c, j])) * (abs(float(beta)) * (1 + 2.0**-40) + g * babs)
            absd[c] += abs(float(coef[c, j])) * g * babs
    tables, rejects = [], []
    for cat in transform.categorical:
        cols = code_cols[cat.index]
        t = np.zeros((k, cat.n_categories + 1), dtype=np.float64)
        tabs = [(j, transform.outputs[j].table) for j in cols]
        for c in range(k):
            sums = [sum((Fraction(float(coef[c, j])) * Fraction(float(tab[i])) for j, tab in tabs),
                        Fraction(0)) for i in range(cat.n_categories + 1)]
            t[c] = [_f32(s) for s in sums]
            mags = np.zeros(cat.n_categories + 1)
            for j, tab in tabs:
                mags += np.abs(coef[c, j] * tab)
            const[c] += float(mags.max(initial=0.0)) * (1 + 2.0**-40)
        if not np.isfinite(t).all():
            return None
        tables.append(t.astype(np.float32))
        rejects.append(np.asarray(cat.reject, dtype=bool))
    b32 = np.array([_f32(b) for b in br], dtype=np.float64)
    if not (normal_or_zero32(wr) and normal_or_zero32(b32)
            and all(normal_or_zero32(t) for t in tables)):
        return None
    u, v = U32, U64
    h = lane_height(n_raw) + len(cat_src)
    gn = gamma(h, u)
    c_rel = u + v + g_max * (1 + u + v)
    k_fast = (gn * (1 + u) + 2 * u + c_rel) / ((1 - u) * (1 - gn))
    k_sk = gamma(transform.n_outputs + 1, v) * (1 + 4 * u) * (1 + g_max) * (1 + c_rel) / (1 - gn)
    l1 = float(np.abs(wr).sum(axis=1).max(initial=0.0))
    n_terms = n_raw + len(cat_src)
    under = max((4 * n_terms + 8 + 2 * l1 * (1 + 2 * u)) * 2.0**-150, 2.0**-126)
    # intercept and one table value per categorical input, and each guarded column's term
    flushed = (1 + len(cat_src)) * 2.0**-126 + len(guarded) * 2.0**-126 * XG
    d = (float((gamma(transform.n_outputs + 1, v) * 1.01 * const + absd).max(initial=0.0))
         + under + flushed)
    return FoldedFast(wr=wr.astype(np.float32), br=b32.astype(np.float32), cat_src=cat_src,
                      guarded=tuple(sorted(guarded)),
                      tables=tuple(tables), reject=tuple(rejects),
                      k=bound_const(k_fast + k_sk), d=bound_const(d),
                      cols=_one_hot_cols(coef, transform, code_cols, tables))


def _one_hot_cols(coef: np.ndarray, transform: InputTransform, code_cols: dict[int, list[int]],
                  tables: list[np.ndarray]) -> tuple[np.ndarray, ...] | None:
    """Per categorical input, the output column each code sets to exactly 1 (-1: none), when
    every code sets at most one (the rest 0) and the folded table is that column's weight
    rounded by _f32; else None."""
    out = []
    for cat, t in zip(transform.categorical, tables, strict=True):
        cols = code_cols[cat.index]
        tab = np.array([np.asarray(transform.outputs[j].table, dtype=np.float64) for j in cols])
        col = np.full(cat.n_categories + 1, -1, dtype=np.int64)
        for i in range(cat.n_categories + 1):
            hot = np.flatnonzero(tab[:, i]) if cols else np.array([], dtype=np.int64)
            if len(hot) > 1 or (len(hot) == 1 and tab[hot[0], i] != 1.0):
                return None
            if len(hot) == 1:
                col[i] = cols[int(hot[0])]
        derived = np.array([[0.0 if j < 0 else _f32(Fraction(float(coef[c, j]))) for j in col]
                            for c in range(coef.shape[0])], dtype=np.float32)
        if not np.array_equal(derived.view(np.uint32), t.view(np.uint32)):
            return None
        out.append(col)
    return tuple(out)


def folded_scores(ff: FoldedFast, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replay of the C: (usable rows, s, a) as float32 (rows, k); a row is unusable when a code
    is invalid or rejected (the full path then decides, and rejects it)."""
    X = np.asarray(X, dtype=np.float32)
    rows, k = X.shape[0], len(ff.br)
    ok = np.ones(rows, dtype=bool)
    with np.errstate(invalid="ignore"):
        ok &= (np.abs(X[:, list(ff.guarded)]) <= np.float32(XG)).all(axis=1)
    st = np.broadcast_to(ff.br, (rows, k)).astype(np.float32)
    at = np.abs(st)
    for src, t, rej in zip(ff.cat_src, ff.tables, ff.reject, strict=True):
        v = X[:, src].astype(np.float64)
        n_cat = t.shape[1] - 1
        with np.errstate(invalid="ignore"):
            good = (v >= -1) & (v <= n_cat - 1) & (v == np.floor(v))
        code = np.where(good, v, -1).astype(np.int64)
        good &= ~rej[code + 1]
        ok &= good
        add = t[:, code + 1].T
        st = st + add
        at = at + np.abs(add)
    with np.errstate(all="ignore"):
        xf = np.where(ok[:, None], X, np.float32(0))
        s, a = lane_dot32(ff.wr, st, xf, at)
    return ok, s, a


def folded_bound_ok(ff: FoldedFast, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose magnitudes stay below AMAX, the per-score bound K a + D), as the C."""
    with np.errstate(all="ignore"):
        return (a <= np.float32(AMAX)).all(axis=1), ff.k * a + ff.d
