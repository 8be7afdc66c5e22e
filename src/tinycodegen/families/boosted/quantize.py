"""Quantize a boosted-tree model (``BoostedTreesIR``) to ``QBoostedTreesIR`` (``qir.py``).

Routing stays exact: the split values become per-feature bin indices (the quantized forests'
binning, ``families/trees/qir.py``), so every input reaches the float model's leaves. Only the
numbers change: leaves to ``int8``/``int16`` mantissas times a per-leaf power of two, in units of
one ``2**-s`` per model (the largest s that keeps the exponents in 4 bits and the int32 sum under
``qir.ACC_BOUND``), the base to an integer in those units, and the
link (sigmoid / softmax) to qnet's 16-bit tables. Zero-as-missing and categorical splits become
bin tests too (``qsplits.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.links import SIGMOID_LINKS, SOFTMAX_LINKS
from tinycodegen.families.boosted.qir import (
    ACC_BOUND,
    EXP_MAX,
    LEAF_MAX,
    MAX_OUTPUTS,
    QBoostedTreesIR,
    tree_bound,
    tree_leaf_ids,
)
from tinycodegen.families.boosted.qsplits import bin_splits
from tinycodegen.families.mlp import qnet_ops as ops

GE_RULES = ("raw_ge_zero",)  # binary rules that pick class 1 at raw == 0
MAX_SHIFT = 1000  # 2**s stays finite for every float64 leaf


def _check_supported(src: Any) -> None:
    est = src.meta.estimator
    if not (np.isfinite(src.leaf_value).all() and np.isfinite(src.base).all()):
        raise UnsupportedModelError(f"--quantize: {est} has a non-finite leaf or base value")
    if src.link not in SIGMOID_LINKS + SOFTMAX_LINKS:
        raise UnsupportedModelError(f"--quantize: {est}: unknown output link {src.link!r}")
    k = len(src.base)
    if (k == 1) != (src.link in SIGMOID_LINKS) or k > MAX_OUTPUTS:
        raise UnsupportedModelError(
            f"--quantize: {est}: {k} raw outputs with link {src.link!r} are not supported")


def leaf_codes(x: np.ndarray, mant_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(q, e) for real values x (in units): the smallest e >= 0 with
    |m| = |round_half_up(x / 2**e)| <= mant_max, and q = m * 2**e (exact float64 steps)."""
    ax = np.abs(x)
    with np.errstate(divide="ignore"):  # |m| <= mant_max needs |x| / 2**e <= mant + 1/2
        guess = np.ceil(np.log2(ax / (mant_max + 0.5))) - 1  # log2's rounding: one below
    e = np.where(ax > mant_max, np.maximum(guess, 0), 0).astype(np.int64)
    while True:
        m = ops.round_half_up(np.ldexp(x, -e)).astype(np.int64)
        over = np.abs(m) > mant_max
        if not over.any():
            break
        e = e + over
    return m << e, e


def choose_shift(leaves: list[np.ndarray], leaf_value: np.ndarray, tree_output: np.ndarray,
                 base: np.ndarray, mode: str) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """(s, leaf_q, leaf_exp, base_q): the largest s whose leaf exponents fit EXP_MAX and whose
    int32 accumulator bound (``qir`` module doc) holds."""
    mant = LEAF_MAX[mode]
    big = float(np.abs(leaf_value).max(initial=0.0))
    s = MAX_SHIFT if big == 0.0 else math.floor(math.log2(mant * 2.0**EXP_MAX / big))
    per_out = np.abs(base).astype(np.float64)
    for t, ids in enumerate(leaves):
        per_out[int(tree_output[t])] += float(np.abs(leaf_value[ids]).max(initial=0.0))
    total = float(per_out.max(initial=0.0)) * (1 + 1 / mant)  # + rounding of each leaf
    if total > 0.0:
        s = min(s, math.floor(math.log2((ACC_BOUND - len(leaves) - 1) / total)))
    s = min(s, MAX_SHIFT)
    while True:
        leaf_q, leaf_exp = leaf_codes(np.ldexp(leaf_value, s), mant)
        base_q = ops.round_half_up(np.ldexp(np.asarray(base, np.float64), s)).astype(np.int64)
        if leaf_exp.max(initial=0) <= EXP_MAX and (
                tree_bound(leaves, leaf_q, tree_output, base_q) <= ACC_BOUND).all():
            return s, leaf_q, leaf_exp, base_q
        s -= 1


def quantize_boosted(src: Any, mode: str) -> QBoostedTreesIR:
    """The quantized model of a ``BoostedTreesIR`` (mode "int8" or "int16")."""
    if mode not in LEAF_MAX:
        raise UnsupportedModelError(f"--quantize: unknown mode {mode!r}")
    _check_supported(src)
    meta = src.meta
    splits = bin_splits(src)
    counts = np.diff(splits["thr_offset"])
    bin_bits = 8 if (counts < 255).all() else 16  # bins live on the stack: keep them small
    leaf_value = np.asarray(src.leaf_value, dtype=np.float64)
    tree_output = np.asarray(src.tree_output, dtype=np.int32)
    leaves = tree_leaf_ids(src.roots, src.left, src.right)
    s, leaf_q, leaf_exp, base_q = choose_shift(leaves, leaf_value, tree_output, src.base, mode)
    if len(base_q) == 1:
        # expit(link_param * raw): LightGBM's sigmoid, sklearn's exponential loss (2)
        lp = float(src.link_param) if src.link in ("sk_binary", "lgbm_sigmoid") else 1.0
        mult, shift = ops.fixed_mult(math.ldexp(lp / ops.SIG_UNIT, -s), "int8")
    else:
        mult, shift = ops.fixed_mult(math.ldexp(1.0 / ops.EXP_UNIT, -s), "int8")
    err = float(np.abs(np.ldexp(leaf_q.astype(np.float64), -s) - leaf_value).max(initial=0.0))
    return QBoostedTreesIR(
        meta=meta, mode=mode, bin_bits=bin_bits, **splits,
        feature=np.asarray(src.feature, np.int32), nan_left=np.asarray(src.nan_left, bool),
        left=np.asarray(src.left, np.int32), right=np.asarray(src.right, np.int32),
        roots=np.asarray(src.roots, np.int32), cat_set=np.asarray(src.cat_set, np.int32),
        cat_bits=np.asarray(src.cat_bits, np.uint32), cat_other_nan=src.cat_rule == "hgb",
        inf_reject=np.asarray(getattr(src, "inf_reject", np.zeros(meta.n_features, bool)), bool),
        leaf_q=leaf_q, leaf_exp=leaf_exp, tree_output=tree_output, base_q=base_q, shift=s,
        predict_ge=src.predict_rule in GE_RULES, proba_mult=mult, proba_shift=shift,
        stats={"leaf_max_error": err, "thresholds": int(len(splits["thresholds"])),
               "max_abs_leaf": float(np.abs(leaf_value).max(initial=0.0))},
    )
