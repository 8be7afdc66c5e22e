"""Quantize a tree ensemble: integer bins for inputs, 8/16-bit leaf fractions, shared nodes.

Routing stays exact (see ``ir/qtrees.py``): only the leaf values change, by the documented
rounding of :func:`round_leaves`. The node DAG is built twice, sharing identical subtrees within
each tree only and across the whole forest, and the layout whose packed nodes are smaller is
kept (cross-tree references can widen every child field).
"""

from __future__ import annotations

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.qir import SCALES, QuantizedTreeIR
from tinycodegen.families.trees.qpack import pack_nodes

Key = tuple[int, int, int, int, int, int]


def round_leaves(values: np.ndarray, scale: int) -> np.ndarray:
    """Largest-remainder rounding of each probability row to integers summing to ``scale``.

    ``p * scale / sum(p)`` is floored, then the ``scale - sum(floors)`` missing units go one
    each to the classes with the largest remainders (ties: the lower class index first).
    """
    values = np.asarray(values, dtype=np.float64)
    total = values.sum(axis=1, keepdims=True)
    if (total <= 0).any() or (values < 0).any():
        raise UnsupportedModelError("tree leaf with negative or all-zero class weights")
    v = values / total * scale
    floors = np.floor(v)
    deficit = scale - floors.sum(axis=1)
    order = np.argsort(-(v - floors), axis=1, kind="stable")
    rank = np.empty_like(order)
    rows = np.arange(len(v))[:, None]
    rank[rows, order] = np.arange(v.shape[1])[None, :]
    q = (floors + (rank < deficit[:, None])).astype(np.int64)
    assert (q.sum(axis=1) == scale).all()
    return q


def _unique_rows(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in first-seen order and the old -> new map."""
    seen: dict[bytes, int] = {}
    remap = np.empty(len(q), dtype=np.int64)
    for i, row in enumerate(np.ascontiguousarray(q)):
        remap[i] = seen.setdefault(row.tobytes(), len(seen))
    first = np.unique(remap, return_index=True)[1]
    return q[first], remap


def _feature_name(src: TreeEnsembleIR, f: int) -> str:
    names = src.meta.feature_names
    return f"{f} ({names[f]})" if names else str(f)


def _tree_of_nodes(src: TreeEnsembleIR) -> tuple[list[int], np.ndarray]:
    """Pre-order list of (reachable) nodes and the tree each belongs to (no recursion)."""
    order: list[int] = []
    tree = np.full(src.n_nodes, -1, dtype=np.int64)
    for t, root in enumerate(src.roots):
        stack = [int(root)]
        while stack:
            c = stack.pop()
            if c >= 0:
                order.append(c)
                tree[c] = t
                stack += [int(src.right[c]), int(src.left[c])]
    return order, tree


def _dag(src: TreeEnsembleIR, attrs: np.ndarray, leaf_code: np.ndarray,
         global_share: bool) -> tuple[list[Key], np.ndarray, int, np.ndarray | None]:
    """Hash-consed nodes: key = (tree|-1, feat, j, nanl, left, right) with canonical children;
    and each node's training weight per child (summed over the source nodes it stands for)."""
    order, tree = _tree_of_nodes(src)
    canon = np.zeros(src.n_nodes, dtype=np.int64)
    ids: dict[Key, int] = {}
    weight: list[np.ndarray] = []
    pruned = 0

    def ref(c: int) -> int:
        return int(~leaf_code[~c]) if c < 0 else int(canon[c])

    for c in reversed(order):  # children before parents
        lo, hi = ref(int(src.left[c])), ref(int(src.right[c]))
        if lo == hi:
            canon[c] = lo
            pruned += 1
            continue
        f, j, nl = (int(a) for a in attrs[c])
        key = (-1 if global_share else int(tree[c]), f, j, nl, lo, hi)
        canon[c] = ids.setdefault(key, len(ids))
        if canon[c] == len(weight):
            weight.append(np.zeros(2))
        if src.child_weight is not None:
            weight[canon[c]] += src.child_weight[c]
    cw = None if src.child_weight is None else np.asarray(weight).reshape(-1, 2)
    return list(ids), np.asarray([ref(int(r)) for r in src.roots], dtype=np.int64), pruned, cw


def _layout(keys: list[Key], roots: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Pre-order placement of the DAG from each root: node table (n, 5), root refs and the
    DAG node at each place."""
    pos = np.full(len(keys), -1, dtype=np.int64)
    placed: list[int] = []
    for root in roots:
        stack = [int(root)]
        while stack:
            c = stack.pop()
            if c < 0 or pos[c] >= 0:
                continue
            pos[c] = len(placed)
            placed.append(c)
            stack += [keys[c][5], keys[c][4]]

    def new(c: int) -> int:
        return c if c < 0 else int(pos[c])

    table = np.asarray([(k[1], k[2], k[3], new(k[4]), new(k[5])) for k in
                        (keys[c] for c in placed)], dtype=np.int64).reshape(-1, 5)
    return table, np.asarray([new(int(r)) for r in roots], dtype=np.int64), placed


def quantize_trees(src: TreeEnsembleIR, mode: str) -> QuantizedTreeIR:
    meta = src.meta
    nf = meta.n_features
    thr = src.threshold.astype(np.float32) + np.float32(0.0)  # -0.0 -> +0.0
    route = meta.nan_policy == "route"
    tables: list[np.ndarray] = []
    nan_kind = np.zeros(nf, dtype=np.int64)  # 0: all left, 1: all right / unused, 2: mixed
    j = np.zeros(src.n_nodes, dtype=np.int64)
    for f in range(nf):
        at = np.flatnonzero(src.feature == f)
        table = np.unique(thr[at])
        tables.append(table)
        j[at] = np.searchsorted(table, thr[at])
        nl = src.nan_left[at]
        nan_kind[f] = 1 if not route or not len(at) or not nl.any() else (0 if nl.all() else 2)
    m = np.asarray([len(t) for t in tables], dtype=np.int64)
    need = m + (nan_kind == 2)  # largest bin value, plus the NaN code where mixed
    limit8, limit16 = 255, 65535
    too_big = np.flatnonzero(need > limit16)
    if len(too_big):
        f = int(too_big[0])
        raise UnsupportedModelError(
            f"feature {_feature_name(src, f)} has {m[f]} distinct thresholds: more than "
            "16-bit bins hold"
        )
    wide = tuple(int(f) for f in np.flatnonzero(need > limit8)) if mode == "int8" else ()
    bin_bits = 8 if mode == "int8" and not wide else 16
    nan_code = (1 << bin_bits) - 1
    nan_bin = np.where(nan_kind == 0, 0, np.where(nan_kind == 1, m, nan_code))
    mixed_node = nan_kind[src.feature] == 2
    attrs = np.stack([src.feature, j, (src.nan_left & mixed_node)], axis=1).astype(np.int64)

    q_all = round_leaves(src.leaf_values, SCALES[mode])
    leaf_q, leaf_map = _unique_rows(q_all)
    offset = np.concatenate([[0], np.cumsum(m)]).astype(np.int64)
    thresholds = np.concatenate(tables) if tables else np.zeros(0, np.float32)

    best: QuantizedTreeIR | None = None
    best_bytes = -1
    for global_share in (True, False):
        keys, roots, pruned, weight = _dag(src, attrs, leaf_map, global_share)
        table, roots, placed = _layout(keys, roots)
        ir = QuantizedTreeIR(
            meta=meta, mode=mode, thr_offset=offset, thresholds=thresholds.astype(np.float32),
            bin_bits=bin_bits, nan_bin=nan_bin.astype(np.int64), nan_mixed=nan_kind == 2,
            feature=table[:, 0].astype(np.int32), bin=table[:, 1].astype(np.int32),
            nan_left=table[:, 2].astype(bool), left=table[:, 3].astype(np.int32),
            right=table[:, 4].astype(np.int32), roots=roots.astype(np.int32), leaf_q=leaf_q,
            leaf_map=leaf_map, wide_features=wide,
            child_weight=None if weight is None else weight[placed].reshape(-1, 2),
            stats={"source_nodes": src.n_nodes, "source_leaves": src.n_leaves,
                   "pruned_nodes": pruned, "shared_nodes": src.n_nodes - pruned - len(table),
                   "global_sharing": int(global_share), "thresholds": int(len(thresholds))},
        )
        size = pack_nodes(ir).node_bytes
        if best is None or size < best_bytes:
            best, best_bytes = ir, size
    assert best is not None
    return best
