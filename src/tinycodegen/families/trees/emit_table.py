"""Data-table backend for tree ensembles: nodes in ``static const`` arrays, a small walk loop.

Thresholds are stored as int32 keys (see ``trees_common``): one integer compare per level on
every core, no soft-float call on cores without an FPU. ``NAME_sum`` walks all trees for input
without NaN (predict's fast path; the walk is unrolled ``UNROLL`` steps per loop pass);
``NAME_leaf`` walks one tree and honours NaN stand-ins (proba64, predict on rows with NaN).
"""

from __future__ import annotations

import numpy as np

from tinycodegen.core.csource import CSource, c_array, int_type, render, rom_read
from tinycodegen.families.trees.emit_common import (
    aggregation_of,
    fast_sum_loop,
    indent,
    key_literal,
    nan_left_used,
    tree_source,
    walk_input,
)
from tinycodegen.families.trees.ir import TreeEnsembleIR

UNROLL = 4  # walk steps per loop pass in NAME_sum (fewer taken branches on Cortex-M)


def _types(ir: TreeEnsembleIR) -> tuple[str, str]:
    """(child index type, feature index type) of the node tables."""
    children = np.concatenate([ir.left, ir.right, ir.roots]).astype(np.int64)
    child_t = int_type(int(children.min(initial=0)), int(children.max(initial=0)), False)
    return child_t, int_type(0, max(ir.meta.n_features - 1, 0))


def _node_tables(ir: TreeEnsembleIR, name: str) -> str:
    """The node tables, in program memory on AVR (TCG_ROM; read through _reads)."""
    child_t, feat_t = _types(ir)
    tables = c_array(feat_t, f"{name}_feat", ir.feature.tolist() or [0], per_line=24, rom=True)
    tables += c_array("int32_t", f"{name}_thr",
                      [key_literal(k) for k in ir.threshold_keys] or ["0"], 8, rom=True)
    tables += c_array(child_t, f"{name}_left", ir.left.tolist() or [0], per_line=16, rom=True)
    tables += c_array(child_t, f"{name}_right", ir.right.tolist() or [0], per_line=16, rom=True)
    tables += c_array(child_t, f"{name}_roots", ir.roots.tolist(), per_line=16, rom=True)
    if nan_left_used(ir):
        bits = np.packbits(ir.nan_left.astype(np.uint8), bitorder="little")
        tables += "/* bit i: NaN at node i goes left (sklearn's missing_go_to_left) */\n"
        tables += c_array("uint8_t", f"{name}_nanl", [f"0x{b:02x}u" for b in bits], per_line=12,
                          rom=True)
    return tables


def _reads(ir: TreeEnsembleIR, name: str) -> dict[str, str]:
    """Template expressions reading the node tables at node i (root of tree t)."""
    child_t, _ = _types(ir)
    return dict(THR=rom_read("int32_t", f"{name}_thr", "i"),
                LEFT=rom_read(child_t, f"{name}_left", "i"),
                RIGHT=rom_read(child_t, f"{name}_right", "i"),
                ROOT=rom_read(child_t, f"{name}_roots", "t"),
                NANL=rom_read("uint8_t", f"{name}_nanl", "u >> 3"))


def _walk_code(ir: TreeEnsembleIR, name: str, in_t: str, get: str) -> str:
    reads = _reads(ir, name)
    step = render("tree_table_step.c.tmpl", GET=get, **reads)
    steps = render("tree_table_exit.c.tmpl").join([step] * UNROLL)
    sm = aggregation_of(ir).sums(ir, name)
    if (ir.roots >= 0).all():  # every root splits: no test before the first step
        head, tail = "do {", "} while (i >= 0);"
    else:
        head, tail = "while (i >= 0) {", "}"
    sum_fn = render("tree_table_sum.c.tmpl", NAME=name, IN_T=in_t, N_TREES=ir.n_trees,
                    ROOT=reads["ROOT"],
                    LOOP_HEAD=head, LOOP_TAIL=tail, STEPS=indent(steps, 12),
                    DECL=indent(sm.decl, 4), ADD=indent(sm.add("(uint32_t)~i"), 8),
                    STORE=indent(sm.store, 4))
    leaf_step = render("tree_table_nan.c.tmpl" if nan_left_used(ir) else "tree_table_step.c.tmpl",
                       GET=get, **reads)
    leaf_fn = render("tree_table_leaf.c.tmpl", NAME=name, IN_T=in_t, ROOT=reads["ROOT"],
                     STEP=indent(leaf_step, 8))
    return "\n" + leaf_fn + "\n" + sum_fn


def emit_table(ir: TreeEnsembleIR, name: str) -> CSource:
    walk = walk_input(ir, name, "table")
    get = walk.get("v", rom_read(_types(ir)[1], f"{name}_feat", "i"))
    if nan_left_used(ir):  # rows with NaN take the NaN-aware walk, tree by tree
        fast_sum = render("tree_table_predict_nan.c.tmpl", NAME=name,
                          LOOP=indent(fast_sum_loop(ir, name), 4)).rstrip("\n")
    else:  # NaN stand-ins (if any) go right at every node, as the fast walk sends them
        fast_sum = f"    {name}_sum(v, acc);"
    return tree_source(ir, name, "table", "tree_table.c.tmpl", walk=walk, fast_sum=fast_sum,
                       walk_code=_walk_code(ir, name, walk.in_t, get),
                       NODE_TABLES=_node_tables(ir, name))
