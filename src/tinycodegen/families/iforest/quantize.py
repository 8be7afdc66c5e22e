"""Quantize an IsolationForest: fixed-point leaf path lengths and an integer cut (ir/qiforest)."""

from __future__ import annotations

import math

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.iforest.ir import IsolationForestIR
from tinycodegen.families.iforest.qir import QuantizedIsolationForestIR


def quantize_iforest(ir: IsolationForestIR, mode: str) -> QuantizedIsolationForestIR:
    bits = 8 if mode == "int8" else 16
    top = (1 << bits) - 1
    shifted = ir.leaf_value + 1.0  # (depth + apl) >= 0
    if (shifted < 0).any():  # pragma: no cover - sklearn's terms are never below -1
        raise UnsupportedModelError("IsolationForest leaf path length below 0")
    biggest = float(shifted.max(initial=0.0))
    scale = 1 << max(0, math.floor(math.log2(top / biggest))) if biggest > 0 else 1 << (bits - 1)
    q = np.rint(shifted * scale).astype(np.int64)
    assert q.max(initial=0) <= top
    max_sum = int(q.max(initial=0)) * ir.n_trees
    c = -ir.offset
    if ir.denominator == 0.0:  # every score is -0.5: outlier iff 0.5 > -offset
        cut = max_sum + 1 if 0.5 > c else 0
    elif c <= 0.0:
        cut = max_sum + 1  # 2 ** e > 0 >= c: every row is an outlier
    else:
        depth_cut = -math.log2(c) * ir.denominator  # outlier iff depths < depth_cut
        cut = min(max(math.ceil((depth_cut + ir.n_trees) * scale), 0), max_sum + 1)
    dtype = np.uint8 if bits == 8 else np.uint16
    return QuantizedIsolationForestIR(base=ir, leaf_q=q.astype(dtype), scale=scale, cut=cut,
                                      bits=bits)
