"""The ``nodes`` input strategy of quantized trees: lazy keys with the threshold in the node.

Each split is two uint32 words: its threshold's key (the float's raw bits as int32 when every
threshold is >= +0, else ``tcg_f32_key``) and a word holding the byte offset ``4 f`` of its
feature in x (bits 0..7; bit 0: NaN goes left), the left child's code (bits 8..19) and the right
child's (bits 20..31). A child code ``c < LEAF0`` is the byte offset of the child's record from
the parent's, any other the leaf ``c - LEAF0``. A split costs three loads, one compare and the
exit test: no table index to decode, no second table to read. Exact as ``keys`` is:
``bin_f(x) <= j`` exactly when ``x <= t_j``.
"""

from __future__ import annotations

import numpy as np

from tinycodegen.core.csource import c_array
from tinycodegen.families.trees.emit_qparts import keys_prep, nan_left_bits, threshold_keys
from tinycodegen.families.trees.qir import QuantizedTreeIR
from tinycodegen.families.trees.qpack import child_codes

CODE_BITS = 12
MAX_FEATURES = 64  # the byte offset 4 f fits bits 2..7


def node_codes(ir: QuantizedTreeIR) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Left and right child codes and LEAF0, or None when this model does not fit the format
    (a child laid out before its parent, or codes wider than CODE_BITS)."""
    if ir.n_nodes == 0 or ir.meta.n_features > MAX_FEATURES:
        return None
    left, right, min_off, node_range = child_codes(ir)
    if min_off < 1:
        return None
    leaf0 = 8 * (min_off + node_range)
    codes = []
    for c in (left, right):
        node = c < node_range
        codes.append(np.where(node, 8 * (c + min_off), leaf0 + c - node_range))
    if max(int(c.max()) for c in codes) >= 1 << CODE_BITS:
        return None
    return codes[0], codes[1], leaf0


def fits(ir: QuantizedTreeIR) -> bool:
    return node_codes(ir) is not None


def raw_keys(ir: QuantizedTreeIR) -> bool:
    """Every threshold >= +0: the raw bits compare as int32."""
    return bool((threshold_keys(ir.thresholds) >= 0x80000000).all())


def node_words(ir: QuantizedTreeIR) -> tuple[np.ndarray, int]:
    """(n_nodes, 2) uint32 records and LEAF0."""
    got = node_codes(ir)
    if got is None:
        raise ValueError("quantized trees: this model does not fit the 'nodes' layout")
    left, right, leaf0 = got
    keys = threshold_keys(ir.thresholds)[ir.thr_offset[ir.feature] + ir.bin].astype(np.int64)
    if raw_keys(ir):
        keys -= 0x80000000  # the float's own bits: < 2^31, so exact as int32
    meta = (4 * ir.feature.astype(np.int64)) | nan_left_bits(ir).astype(np.int64)
    meta |= (left.astype(np.int64) << 8) | (right.astype(np.int64) << 20)
    words = np.stack([keys & 0xFFFFFFFF, meta], axis=1).astype(np.uint32)
    return words, leaf0


def _level(up: str, test: str, leaf0: int) -> str:
    return (
        "        {\n"
        "            const uint32_t m = TCG_ROM_U32(&w[1]);\n"
        f"            {test}\n"
        f"            v = go ? (m >> 8) & 0x{(1 << CODE_BITS) - 1:x}u : m >> 20;\n"
        f"            if (v >= {leaf0}u) {{\n"
        f"                return v - {leaf0}u;\n"
        "            }\n"
        "            w = (const uint32_t *)(const void *)((const unsigned char *)w + v);\n"
        "        }"
    )


def _walk(name: str, fn: str, doc: str, levels: str, n_nodes: int) -> str:
    return (
        f"/* {doc} */\n"
        f"static uint32_t {fn}(uint32_t v, const float *x)\n{{\n"
        "    const uint32_t *w;\n"
        f"    if (v >= {n_nodes}u) {{\n        return v - {n_nodes}u;\n    }}\n"
        f"    w = &{name}_node[v * 2u];\n"
        f"    for (;;) {{\n{levels}\n    }}\n}}\n"
    )


def nodes_parts(ir: QuantizedTreeIR, name: str, root_call: str,
                nan_only: bool = False) -> dict[str, object]:
    """Template substitutions of ``qtree_table.c.tmpl`` for the ``nodes`` strategy.
    ``nan_only``: of a model that routes NaN, only the NaN-aware walk ``NAME_leaf_nan``."""
    up = name.upper()
    words, leaf0 = node_words(ir)
    raw = raw_keys(ir)
    xf = "*(const float *)(const void *)((const unsigned char *)x + (m & 0xfcu))"
    if raw:
        get, thr = f"const int32_t b = tcg_f32_ibits({xf});", "(int32_t)TCG_ROM_U32(&w[0])"
        test, is_nan = f"b <= {thr}", "((uint32_t)b & 0x7fffffffu) > 0x7f800000u"
        key_doc = ("every threshold is >= +0, so the raw bits compare as int32: a negative x, "
                   "-0.0 included, is below all of them")
    else:
        get, thr = f"const uint32_t b = tcg_f32_bits({xf});", "TCG_ROM_U32(&w[0])"
        test, is_nan = f"tcg_f32_key(b) <= {thr}", "(b & 0x7fffffffu) > 0x7f800000u"
        key_doc = "both as tcg_f32_key"
    table_t = "int32_t" if raw else "uint32_t"
    vals = [f"0x{int(v):08x}u" for v in words.ravel()]
    nodes = c_array("uint32_t", f"{name}_node", vals, per_line=8, rom=True)
    level = _level(up, f"{get}\n            const int go = {test};", leaf0)
    walks = [_walk(name, f"{name}_leaf", "The leaf that a tree whose root code is v sends x to "
                   "(no NaN in x); two levels per iteration.", f"{level}\n{level}", ir.n_nodes)]
    call = f"{name}_leaf({root_call}, x)"
    if ir.meta.nan_policy == "route":
        nan_level = _level(up, f"{get}\n            const int go = ({is_nan}) ? (int)(m & 1u) : "
                               f"{test};", leaf0)
        walks.append(_walk(name, f"{name}_leaf_nan", "The same walk for an x that holds NaN: "
                           "NaN goes where the split's bit 0 says.", nan_level, ir.n_nodes))
        call = f"(st > 1 ? {name}_leaf_nan({root_call}, x) : {call})"
    return dict(
        WORDS=2,
        FIELD_DOC=(f"its threshold's key ({table_t}), then the byte offset 4 f of its feature "
                   f"in x (bits 0..7, bit 0: NaN goes left), left code (bits 8..19), right code "
                   "(bits 20..31)"),
        CHILD_DOC=(f"A child code c < {leaf0} is the byte offset of the child's record from "
                   f"the parent's, any other the leaf c - {leaf0};\n * a root code v < "
                   f"{ir.n_nodes} is the node v, any other the leaf v - {ir.n_nodes}."),
        NODE_TABLES=nodes, THR_TABLES="", EXTRA_TABLES="", FIELD_MACROS="",
        THR_DOC="each split holds its own threshold's key",
        PREP=keys_prep(ir, name, key_doc), STATE_DECL="", PREP_CALL=f"{name}_prep(x)",
        LEAF_CALL=call, WALKS="\n".join(walks[1:] if nan_only and len(walks) > 1 else walks),
    )
