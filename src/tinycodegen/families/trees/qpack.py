"""Packed node format of a quantized tree ensemble (numbers only; the C writer prints them).

Every split node is one record of ``words`` uint32 words holding five bit fields, each as narrow
as this model allows: ``feat``, ``bin`` (j; or, with ``global_bin``, the index ``off[f] + j`` of
the split's threshold in the concatenated table), ``nanl`` (absent unless some feature has mixed
NaN routing; with ``global_bin`` it lives in a separate bitmap, :func:`nan_bits`), ``left`` and
``right``. One-word records put the children in the low bits and the feature in the top bits.
A child code ``v < node_range`` is the node ``i + v + min_off`` (relative to the parent ``i``;
nodes are laid out in pre-order, so a left child is mostly ``i + 1``); otherwise it is the leaf
``v - node_range``. A root code ``v < n_nodes`` is the node ``v``, else the leaf
``v - n_nodes``. Fields never straddle words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinycodegen.families.trees.qir import QuantizedTreeIR

FIELDS = ("feat", "bin", "nanl", "left", "right")


@dataclass(frozen=True)
class NodePacking:
    words: int  # uint32 words per node
    fields: dict[str, tuple[int, int, int]]  # name -> (word, shift, width); width 0: always 0
    min_off: int
    node_range: int  # child codes below this are node offsets, the rest leaves
    node_words: np.ndarray  # uint32 (n_nodes * words,)
    root_codes: np.ndarray  # int64 (n_trees,)

    @property
    def node_bytes(self) -> int:
        return 4 * len(self.node_words)


def child_codes(ir: QuantizedTreeIR) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Left and right child codes, min_off and node_range (see the module docstring)."""
    idx = np.arange(ir.n_nodes, dtype=np.int64)
    offs = [c.astype(np.int64) - idx for c in (ir.left, ir.right)]
    internal = [c >= 0 for c in (ir.left, ir.right)]
    all_offs = np.concatenate([o[m] for o, m in zip(offs, internal, strict=True)])
    min_off = int(all_offs.min()) if len(all_offs) else 1
    node_range = int(all_offs.max()) - min_off + 1 if len(all_offs) else 0
    codes = []
    for c, o, m in zip((ir.left, ir.right), offs, internal, strict=True):
        codes.append(np.where(m, o - min_off, node_range + ~c.astype(np.int64)))
    return codes[0], codes[1], min_off, node_range


def nan_bits(ir: QuantizedTreeIR) -> np.ndarray:
    """bool per node: NaN goes left here by the node's own bit (its feature has mixed routing)."""
    if ir.meta.nan_policy != "route":
        return np.zeros(ir.n_nodes, dtype=bool)
    return ir.nan_left & ir.nan_mixed[ir.feature]


def field_values(ir: QuantizedTreeIR, global_bin: bool = False
                 ) -> tuple[dict[str, np.ndarray], int, int]:
    left, right, min_off, node_range = child_codes(ir)
    bits = nan_bits(ir)
    values = {
        "feat": ir.feature.astype(np.int64),
        "bin": ir.bin.astype(np.int64) + (ir.thr_offset[ir.feature] if global_bin else 0),
        "nanl": np.zeros(ir.n_nodes, dtype=np.int64) if global_bin else bits.astype(np.int64),
        "left": left,
        "right": right,
    }
    return values, min_off, node_range


def pack_nodes(ir: QuantizedTreeIR, global_bin: bool = False) -> NodePacking:
    values, min_off, node_range = field_values(ir, global_bin)
    widths = {k: int(v.max(initial=0)).bit_length() for k, v in values.items()}
    if max(widths.values()) > 32:
        raise ValueError("quantized trees: a node field needs more than 32 bits")
    fields: dict[str, tuple[int, int, int]] = {}
    if sum(widths.values()) <= 32:
        # one word: children in the low bits, the feature in the top bits (no mask needed)
        used = 0
        for name in ("left", "right", "bin", "nanl"):
            fields[name] = (0, used if widths[name] else 0, widths[name])
            used += widths[name]
        fields["feat"] = (0, 32 - widths["feat"] if widths["feat"] else 0, widths["feat"])
        free = [32]
    else:
        free = _first_fit(widths, fields)
    n_words = max(len(free), 1)
    packed = np.zeros((ir.n_nodes, n_words), dtype=np.uint64)
    for name, (word, shift, w) in fields.items():
        if w:
            packed[:, word] |= values[name].astype(np.uint64) << np.uint64(shift)
    roots = np.where(ir.roots >= 0, ir.roots.astype(np.int64),
                     ir.n_nodes + ~ir.roots.astype(np.int64))
    return NodePacking(words=n_words, fields=fields, min_off=min_off, node_range=node_range,
                       node_words=packed.astype(np.uint32).ravel(), root_codes=roots)


def _first_fit(widths: dict[str, int], fields: dict[str, tuple[int, int, int]]) -> list[int]:
    """First-fit decreasing of the fields into 32-bit words; returns the bits used per word."""
    free: list[int] = []
    for name in sorted(FIELDS, key=lambda k: (-widths[k], FIELDS.index(k))):
        w = widths[name]
        if w == 0:
            fields[name] = (0, 0, 0)
            continue
        for word, used in enumerate(free):
            if used + w <= 32:
                fields[name] = (word, used, w)
                free[word] += w
                break
        else:
            fields[name] = (len(free), 0, w)
            free.append(w)
    return free


def unpack(p: NodePacking, name: str) -> np.ndarray:
    """One field of every node back from the packed words (used by tests)."""
    word, shift, w = p.fields[name]
    if w == 0:
        return np.zeros(len(p.node_words) // p.words, dtype=np.int64)
    col = p.node_words.reshape(-1, p.words)[:, word].astype(np.int64)
    return (col >> shift) & ((1 << w) - 1)
