"""Inline backend for tree ensembles: straight-line tests and jumps, no node tables.

Trees are written in chunks: one C function walks several trees in sequence and stores the leaf
vector each reaches in ``leaf[t]`` (no call, push or return per tree). Nodes are written
depth-first; each test jumps to the child that more training weight reached (``TCG_LIKELY``):
compilers put that target on the fall-through path (GCC at -Os does so for a goto target even
without the hint), so fewer branches are taken, each of which costs a pipeline refill.
The walk uses an explicit stack: no Python recursion, any depth. Each test compares an int32
(raw float bits or key, see ``trees_common``) with an integer constant.
"""

from __future__ import annotations

from collections.abc import Callable

from tinycodegen.core.csource import CSource, int_type, render
from tinycodegen.families.trees.emit_common import (
    WalkInput,
    aggregation_of,
    indent,
    key_literal,
    nan_left_used,
    tree_source,
    walk_input,
)
from tinycodegen.families.trees.ir import TreeEnsembleIR

CHUNK_TREES = 16  # trees per walk function
CHUNK_NODES = 4096  # ... and at most about this many split nodes (compile time of huge forests)
UNROLL_SUM = 32  # up to this many trees, predict's sum is written out tree by tree


def _tree_lines(ir: TreeEnsembleIR, t: int, walk: WalkInput, used: set[str],
                leaf_lines: Callable[[int], list[str]] | None = None,
                tail: str | None = None, nan_w: bool = True,
                cut: Callable[[int], list[str] | None] | None = None) -> list[str]:
    """Statements walking tree t, ending with ``leaf[t] = id`` and a jump past the tree.
    ``leaf_lines(id)`` and ``tail`` replace ``id = <id>;`` and ``leaf[t] = id;``; with
    ``nan_w=False`` every node reads v (NaN stand-ins then go right everywhere). A split node
    for which ``cut(node)`` gives statements is not written as code: they stand in its place."""
    nan_left = nan_w and nan_left_used(ir)
    leaf_lines = leaf_lines or (lambda i: [f"    id = {i}u;"])
    tail = f"    leaf[{t}] = id;" if tail is None else tail
    keys, weight = ir.threshold_keys, ir.child_weight
    done = f"t{t}_done"
    lines = [f"    /* tree {t} */"]
    stack: list[tuple[int, str | None]] = [(int(ir.roots[t]), None)]
    counter = 0
    while stack:
        node, label = stack.pop()
        if label is not None:
            lines.append(f"{label}:")
        stop = cut(node) if cut is not None and node >= 0 else None
        if node < 0 or stop is not None:
            lines += leaf_lines(~node) if stop is None else stop
            if stack:
                lines.append(f"    goto {done};")
            elif counter:  # the last leaf falls through to the tail (no label in a one-leaf tree)
                lines.append(f"{done}:" + (f"\n{tail}" if tail else ";"))
            elif tail:
                lines.append(tail)
            continue
        src = "w" if nan_left and ir.nan_left[node] else "v"  # w holds NaN as TCG_NAN_LEFT
        used.add(src)
        counter += 1
        value = walk.get(src, str(int(ir.feature[node])))
        left, right = int(ir.left[node]), int(ir.right[node])
        key = key_literal(keys[node])
        if weight is not None and weight[node, 1] > weight[node, 0]:
            lines.append(f"    if (TCG_LIKELY({value} > {key})) goto t{t}_r{counter};")
            stack += [(right, f"t{t}_r{counter}"), (left, None)]
        else:
            lines.append(f"    if (TCG_LIKELY({value} <= {key})) goto t{t}_l{counter};")
            stack += [(left, f"t{t}_l{counter}"), (right, None)]
    return lines


def tree_sizes(ir: TreeEnsembleIR) -> list[int]:
    """Split nodes per tree (each tree's split nodes are contiguous)."""
    roots = ir.roots.astype(int).tolist()
    starts = sorted(r for r in roots if r >= 0) + [ir.n_nodes]
    return [starts[starts.index(r) + 1] - r if r >= 0 else 0 for r in roots]


def chunk_trees(sizes: list[int]) -> list[range]:
    """Consecutive trees per walk function, given each tree's written nodes: at most
    CHUNK_TREES trees and (unless one tree alone exceeds it) CHUNK_NODES nodes per function."""
    out, start, nodes = [], 0, 0
    for t, n in enumerate(sizes):
        if t > start and (t - start >= CHUNK_TREES or nodes + n > CHUNK_NODES):
            out.append(range(start, t))
            start, nodes = t, 0
        nodes += n
    out.append(range(start, len(sizes)))
    return out


def _chunks(ir: TreeEnsembleIR) -> list[range]:
    """Consecutive trees per walk function."""
    return chunk_trees(tree_sizes(ir))


def _walk_functions(ir: TreeEnsembleIR, name: str, walk: WalkInput, leaf_t: str) -> str:
    funcs, calls = [], []
    for c, trees in enumerate(_chunks(ir)):
        used: set[str] = set()
        body: list[str] = []
        for t in trees:
            body += _tree_lines(ir, t, walk, used)
        unused = [f"    {leaf_t} id;"] + [f"    (void){a};" for a in ("v", "w") if a not in used]
        funcs.append(render("tree_inline_chunk.c.tmpl", NAME=name, C=c, IN_T=walk.in_t,
                            LEAF_T=leaf_t, FIRST=trees.start, LAST=trees.stop - 1,
                            BODY="\n".join(unused + body)))
        calls.append(f"    {name}_walk{c}(v, w, leaf);")
    return "\n".join(funcs) + render("tree_inline_leaves.c.tmpl", NAME=name, IN_T=walk.in_t,
                                     LEAF_T=leaf_t, CALLS="\n".join(calls))


def emit_inline(ir: TreeEnsembleIR, name: str) -> CSource:
    walk = walk_input(ir, name, "inline")
    w_arg = "w" if walk.need_w else "v"
    leaf_t = int_type(0, max(ir.n_leaves - 1, 0))
    walk_code = _walk_functions(ir, name, walk, leaf_t)
    sm = aggregation_of(ir).sums(ir, name)
    if ir.n_trees <= UNROLL_SUM:
        adds = "".join(sm.add(f"leaf[{t}]") for t in range(ir.n_trees))
    else:
        adds = (f"uint32_t t;\nfor (t = 0u; t < {ir.n_trees}u; ++t) {{\n"
                f"{indent(sm.add('leaf[t]'), 4)}}}\n")
    fast_sum = render("tree_inline_sum.c.tmpl", NAME=name, LEAF_T=leaf_t, N_TREES=ir.n_trees,
                      W=w_arg, DECL=indent(sm.decl, 8), ADDS=indent(adds, 8),
                      STORE=indent(sm.store, 8)).rstrip("\n")
    proba_pre = f"    {leaf_t} leaf[{ir.n_trees}];\n    {name}_leaves(v, {w_arg}, leaf);\n"
    return tree_source(ir, name, "inline", "tree_inline.c.tmpl", fast_sum=fast_sum, walk=walk,
                       walk_code=walk_code, leaf_expr="leaf[t]", proba_pre=proba_pre)
