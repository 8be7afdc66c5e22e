"""The cold part of the quantized ``speed`` layout: split nodes a row rarely visits stay in
the ``nodes`` strategy's records (8 bytes each, ``emit_qnodes``) instead of code (about 16),
walked from where the code stops.

Which nodes are code: by the training weight that reaches each node (``child_weight``, summed
over every path of the DAG), the nodes of highest visit probability, until the rest are
visited less than ``COLD_VISITS`` times per row in all (the study's Tiny RF, 5 x depth 6: 241
splits, about 30 visited per row). A row that leaves the code walks the records of the nodes
below (``NAME_leaf`` / ``NAME_leaf_nan``: the table walk's own test) and adds its leaf's
fractions from ``NAME_leafq``. Exact as both walks are.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from tinycodegen.families.trees.emit_qnodes import fits, nodes_parts
from tinycodegen.families.trees.emit_quantized import leaf_table
from tinycodegen.families.trees.qir import QuantizedTreeIR

COLD_VISITS = 0.5  # expected record visits per row left to the cold walk (all trees together)
MIN_NODES = 64  # models with fewer split nodes are all code


def visit_prob(ir: QuantizedTreeIR) -> np.ndarray:
    """Expected visits per row of each split node (training weights; 1/2 each side without)."""
    prob = np.zeros(ir.n_nodes)
    w = ir.child_weight
    stack = [(int(r), 1.0) for r in ir.roots if r >= 0]
    while stack:
        node, pr = stack.pop()
        prob[node] += pr
        total = float(w[node].sum()) if w is not None else 0.0
        for side, child in enumerate((int(ir.left[node]), int(ir.right[node]))):
            if child >= 0:
                stack.append((child, pr * (float(w[node, side]) / total if total > 0 else 0.5)))
    return prob


def _topo(ir: QuantizedTreeIR, starts: list[int]) -> list[int]:
    """Nodes reachable from starts, every parent before its children (reverse post-order)."""
    post: list[int] = []
    seen: set[int] = set()
    for s in starts:
        stack = [(s, False)]
        while stack:
            node, done = stack.pop()
            if done:
                post.append(node)
            elif node >= 0 and node not in seen:
                seen.add(node)
                stack += [(node, True), (int(ir.right[node]), False), (int(ir.left[node]), False)]
    return post[::-1]


@dataclass(frozen=True)
class ColdPlan:
    hot: frozenset[int]  # split nodes written as code
    index: dict[int, int]  # cold-walk node -> its record index
    sub: QuantizedTreeIR  # the records' IR (roots: unused)


def plan(ir: QuantizedTreeIR, cold_visits: float = COLD_VISITS,
         min_nodes: int = MIN_NODES) -> ColdPlan | None:
    """Hot nodes and the records below them, or None when all nodes are code (small model, no
    rarely visited nodes, or records that do not fit the ``nodes`` format)."""
    if ir.n_nodes < max(min_nodes, 1):
        return None
    prob = visit_prob(ir)
    order = np.argsort(-prob, kind="stable")
    tail = np.cumsum(prob[order][::-1])[::-1]  # visits of order[i:] per row
    n_hot = int(np.argmax(tail <= cold_visits)) if (tail <= cold_visits).any() else ir.n_nodes
    hot = frozenset(int(i) for i in order[:n_hot])
    cuts = sorted({c for n in hot for c in (int(ir.left[n]), int(ir.right[n]))
                   if c >= 0 and c not in hot} | {int(r) for r in ir.roots
                                                  if r >= 0 and int(r) not in hot})
    if not cuts:
        return None
    nodes = _topo(ir, cuts)
    index = {n: i for i, n in enumerate(nodes)}
    sel = np.asarray(nodes, dtype=np.int64)

    def remap(c: np.ndarray) -> np.ndarray:
        return np.asarray([index[int(v)] if v >= 0 else int(v) for v in c], dtype=np.int32)

    sub = dataclasses.replace(
        ir, feature=ir.feature[sel], bin=ir.bin[sel], nan_left=ir.nan_left[sel],
        left=remap(ir.left[sel]), right=remap(ir.right[sel]),
        roots=np.asarray([index[c] for c in cuts], dtype=np.int32), child_weight=None)
    return ColdPlan(hot, index, sub) if fits(sub) else None


def cold_code(ir: QuantizedTreeIR, name: str, p: ColdPlan) -> str:
    """The records, the leaf table and the walk: ``NAME_leaf_nan(c, x)`` if the model routes
    NaN, else ``NAME_leaf(c, x)``."""
    parts = nodes_parts(p.sub, name, "0u", nan_only=True)
    _, leaves = leaf_table(ir, name)
    return (f"\n/* Rarely visited split nodes as the table layout's 2-word records: "
            f"{parts['FIELD_DOC']}.\n * {parts['CHILD_DOC']} */\n{parts['NODE_TABLES']}"
            f"/* Leaf vectors: the first classes' fractions (the last is the rest). */\n"
            f"{leaves}\n{parts['WALKS']}")
