"""Data-table backend for tree ensembles: nodes in ``static const`` arrays, a small walk loop."""

from __future__ import annotations

import numpy as np

from tinycodegen.emit.common import CSource, c_array, c_float, int_type
from tinycodegen.emit.registry import register_emitter
from tinycodegen.emit.trees_common import tree_source
from tinycodegen.ir.trees import TreeEnsembleIR


@register_emitter("tree_ensemble", "table")
def emit_table(ir: TreeEnsembleIR, name: str) -> CSource:
    n = ir.n_nodes
    children = np.concatenate([ir.left, ir.right, ir.roots]).astype(np.int64)
    child_t = int_type(int(children.min(initial=0)), int(children.max(initial=0)), False)
    feat_t = int_type(0, max(ir.meta.n_features - 1, 0))
    tables = c_array(feat_t, f"{name}_feat", ir.feature.tolist() or [0], per_line=24)
    tables += c_array("float", f"{name}_thr", [c_float(v) for v in ir.threshold] or ["0.0f"], 6)
    tables += c_array(child_t, f"{name}_left", ir.left.tolist() or [0], per_line=16)
    tables += c_array(child_t, f"{name}_right", ir.right.tolist() or [0], per_line=16)
    tables += c_array(child_t, f"{name}_roots", ir.roots.tolist(), per_line=16)
    nan_term = ""
    if ir.meta.nan_policy == "route" and n and ir.nan_left.any():
        bits = np.packbits(ir.nan_left.astype(np.uint8), bitorder="little")
        tables += "/* bit i: NaN at node i goes left (sklearn's missing_go_to_left) */\n"
        tables += c_array("uint8_t", f"{name}_nanl", [f"0x{b:02x}u" for b in bits], per_line=16)
        nan_term = (
            f" || (v != v && (({name}_nanl[(uint32_t)i >> 3] >> ((uint32_t)i & 7u)) & 1u))"
        )
    return tree_source(ir, name, "table", "tree_table.c.tmpl", NODE_TABLES=tables,
                       NAN_TERM=nan_term)
