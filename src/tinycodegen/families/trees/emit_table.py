"""Data-table backend for tree ensembles: nodes in ``static const`` arrays, a small walk loop.

Thresholds are stored as int32 keys (see ``trees_common``): one integer compare per level on
every core, no soft-float call on cores without an FPU. ``NAME_sum`` walks all trees for input
without NaN (predict's fast path; the walk is unrolled ``UNROLL`` steps per loop pass);
``NAME_leaf`` walks one tree and honours NaN stand-ins (proba64, predict on rows with NaN).

On a 64-bit host compiled for speed, ``NAME_sum`` is the ``speed`` layout's trees as code
(``emit_speed.sum_code``) instead (``HOST_CODE_GUARD``): there an out-of-order core runs a table
walk at the latency of one dependent load (the next node's index) per visited node, about
4 cycles, while compiled compares are predicted and run ahead (2.3x faster on the example forest).
Microcontrollers (32-bit or 8-bit pointers) and ``-Os`` builds compile the table walk only, so
their flash and cycles are unchanged. Both walks send every row to the same leaves.
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
from tinycodegen.families.trees.emit_speed import sum_code
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.vote import VOTE

UNROLL = 4  # walk steps per loop pass in NAME_sum (fewer taken branches on Cortex-M)
HOST_CODE_NODES = 4096  # forests up to this many split nodes also carry the host code walk
# (gcc -O2 compiles it at about 2.5 ms per node on the busy 2-core bench machine: 24.5 s for
# 9,722 nodes; the example forest, 1,079 nodes: 2.0 s instead of 0.2 s; -Os skips it)
# The preprocessor test that picks the code walk: a 64-bit host (no microcontroller has 64-bit
# pointers) not compiled for size; define TCG_TREE_TABLE_WALK to force the table walk.
HOST_CODE_GUARD = ("#if defined(UINTPTR_MAX) && UINTPTR_MAX > 0xFFFFFFFFu \\\n"
                   "    && !defined(__OPTIMIZE_SIZE__) && !defined(TCG_TREE_TABLE_WALK)")


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
    if host_code(ir):
        sum_fn = (f"{HOST_CODE_GUARD}\n/* 64-bit host: the trees as code (see the header). */"
                  f"{sum_code(ir, name)}#else\n{sum_fn}#endif\n")
    leaf_step = render("tree_table_nan.c.tmpl" if nan_left_used(ir) else "tree_table_step.c.tmpl",
                       GET=get, **reads)
    leaf_fn = render("tree_table_leaf.c.tmpl", NAME=name, IN_T=in_t, ROOT=reads["ROOT"],
                     STEP=indent(leaf_step, 8))
    return "\n" + leaf_fn + "\n" + sum_fn


def host_code(ir: TreeEnsembleIR) -> bool:
    """Whether NAME_sum has the host's code form (vote leaves, forests of bounded size)."""
    return aggregation_of(ir) is VOTE and 0 < ir.n_nodes <= HOST_CODE_NODES


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
