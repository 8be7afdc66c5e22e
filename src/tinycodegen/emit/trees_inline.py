"""Inline backend for tree ensembles: one C function per tree, straight-line tests and jumps.

Nodes are written in pre-order, so the left child follows its parent and only a jump to the right
child is needed. The walk uses an explicit stack: no Python recursion, any depth.
"""

from __future__ import annotations

from tinycodegen.emit.common import CSource, c_float
from tinycodegen.emit.registry import register_emitter
from tinycodegen.emit.trees_common import tree_source
from tinycodegen.ir.trees import TreeEnsembleIR


def _tree_function(ir: TreeEnsembleIR, name: str, t: int) -> str:
    route_nan = ir.meta.nan_policy == "route"
    lines = [f"static uint32_t {name}_t{t}(const float *x)", "{"]
    if ir.roots[t] < 0:
        lines.append("    (void)x; /* a single-leaf tree */")
    stack: list[tuple[int, str | None]] = [(int(ir.roots[t]), None)]
    counter = 0
    while stack:
        node, label = stack.pop()
        if label is not None:
            lines.append(f"{label}:")
        if node < 0:
            lines.append(f"    return {~node}u;")
            continue
        f = int(ir.feature[node])
        thr = c_float(ir.threshold[node])
        if route_nan and not ir.nan_left[node]:
            cond = f"!(x[{f}] <= {thr})"  # NaN fails the test: right
        else:
            cond = f"x[{f}] > {thr}"  # NaN (if allowed here) passes to the left
        counter += 1
        right_label = f"r{counter}"
        lines.append(f"    if ({cond}) goto {right_label};")
        stack.append((int(ir.right[node]), right_label))
        stack.append((int(ir.left[node]), None))
    lines.append("}")
    return "\n".join(lines) + "\n"


@register_emitter("tree_ensemble", "inline")
def emit_inline(ir: TreeEnsembleIR, name: str) -> CSource:
    funcs = "\n".join(_tree_function(ir, name, t) for t in range(ir.n_trees))
    if ir.n_trees == 1:
        dispatch = (
            f"static uint32_t {name}_leaf(uint32_t t, const float *x)\n"
            f"{{\n    (void)t;\n    return {name}_t0(x);\n}}\n"
        )
    else:
        entries = ",\n".join(f"    {name}_t{t}" for t in range(ir.n_trees))
        dispatch = (
            f"static uint32_t (*const {name}_trees[{ir.n_trees}])(const float *) = {{\n"
            f"{entries}\n}};\n\n"
            f"static uint32_t {name}_leaf(uint32_t t, const float *x)\n"
            f"{{\n    return {name}_trees[t](x);\n}}\n"
        )
    k = f"{name.upper()}_N_CLASSES"
    fast_sum = "\n".join(  # direct calls: the compiler may inline each tree
        f"    tcg_add_u16(acc, &{name}_leaf_q[{name}_t{t}(x) * (uint32_t){k}], {k});"
        for t in range(ir.n_trees)
    )
    return tree_source(ir, name, "inline", "tree_inline.c.tmpl", fast_sum=fast_sum,
                       TREE_FUNCS=funcs, DISPATCH=dispatch)
