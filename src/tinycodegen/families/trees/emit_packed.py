"""Packed node records for tree ensembles: the ``size`` layout, and the slow paths of ``speed``.

Every split node is one record (``uint32_t``, or ``uint64_t`` for very large forests) holding
three fields: the index of its (feature, threshold) pair and the codes of its two children. A
child code ``c < N`` (``N`` = number of split nodes) is split node ``c``; ``c >= N`` is leaf
vector ``c - N``. Pairs are deduplicated: ``NAME_pkey`` holds each pair's int32 key (see
``trees_common``: raw float bits, or ordered keys), ``NAME_pfeat`` its feature. One walk step is a
record load, the pair's feature and key, the input and one compare; the tables are
``static const TCG_ROM`` (read through ``TCG_ROM_*``: program memory on AVR).

The size layout's fast walk (``NAME_sum``, predict's rows without NaN) with split keys (``pack``
with ``keys16``) compares ``floor(a / 65536)`` with the pair's high half (``NAME_khi``, one
16-bit load); only where they are equal (rare) does ``NAME_tie`` read the low half, so the
common step has no clamp and no add (on AVR the int32 compare stays: cheaper on 8 bits). When
every root is a split node its loop tests c once per step, not on entry. Its input check
(``tree_size_scan.c.tmpl``) sums x with the FPU on Thumb-2 cores that have one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from tinycodegen.core.csource import CSource, c_array, int_type, render
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.trees.emit_common import (
    NOINLINE,
    WalkInput,
    aggregation_of,
    fast_sum_loop,
    indent,
    nan_left_used,
    tree_source,
    walk_input,
)
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.scan import FPU_SCAN_MAX, size_scan

# The size layout replays float64 with tcg_f64.h's integer routines on every compiler: smaller
# than libgcc's soft double (Cortex-M: -0.85 KB on the M4F, -2.7 KB on the M0+), the same bits.
SOFT_F64 = ("#ifndef TCG_F64_SOFT\n#define TCG_F64_SOFT 1 /* float64 replay in integer arithmetic: "
            "least flash */\n#endif\n")
MIN_SHORT = 128  # short keys that pay for split keys: 2 B each, against ~200 B of walk code (AVR)
UNROLL = 4  # walk steps per loop pass in NAME_sum (fewer taken branches on Cortex-M)
UNROLL_6M = 2  # on ARMv6-M (Cortex-M0/M0+) with split keys: as fast there, ~130 B less


@dataclass(frozen=True)
class Packed:
    """The record layout of one model: ``words`` uint32 per node (1: the three fields packed,
    3: one word each, for forests too large for 32 bits)."""

    words: np.ndarray  # uint32 (n_nodes * per_node,)
    per_node: int
    pair_feat: np.ndarray  # (n_pairs,)
    pair_key: np.ndarray  # int32 (n_pairs,)
    roots: np.ndarray  # child codes of the roots
    pair_bits: int
    child_bits: int
    n_leaves: int
    n_long: int = -1  # >= 0: split keys (see pack); pairs < n_long have a nonzero low half


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def pack(ir: TreeEnsembleIR, keys16: bool = False) -> Packed:
    """The records; with ``keys16`` (and enough keys whose low 16 bits are 0), keys are split:
    ``NAME_khi`` holds every pair's high half (int16, the key >> 16), ``NAME_klo`` the low halves
    of pairs ``< n_long`` (those with a nonzero one, placed first) and a 0 for all others, so
    ``key = khi[q] * 65536 + klo[min(q, n_long)]`` is the same int32 without a branch."""
    keys = ir.threshold_keys.astype(np.int64)
    pairs = np.stack([ir.feature.astype(np.int64), keys], axis=1)
    if ir.n_nodes:
        pairs, pair_idx = np.unique(pairs, axis=0, return_inverse=True)
    else:
        pairs, pair_idx = np.zeros((1, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    pair_idx = np.asarray(pair_idx, dtype=np.int64).reshape(-1)
    n_long = -1
    short = (pairs[:, 1] & 0xFFFF) == 0
    if keys16 and ir.n_nodes and int(short.sum()) >= MIN_SHORT:
        order = np.argsort(short, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        pairs, pair_idx, n_long = pairs[order], rank[pair_idx], int((~short).sum())
    pair_idx = pair_idx.astype(np.uint64)
    n_leaves = ir.n_leaves

    def code(c: np.ndarray) -> np.ndarray:
        c = c.astype(np.int64)
        return np.where(c >= 0, c, ir.n_nodes + ~c).astype(np.uint64)

    pb, cb = _bits(len(pairs)), _bits(n_leaves + ir.n_nodes)
    left, right = code(ir.left), code(ir.right)
    if pb + 2 * cb <= 32:
        words = pair_idx | (left << np.uint64(pb)) | (right << np.uint64(pb + cb))
        per_node = 1
    else:
        words = np.stack([pair_idx, left, right], axis=1).reshape(-1)
        per_node = 3
    return Packed(words.astype(np.uint32), per_node, pairs[:, 0], pairs[:, 1].astype(np.int32),
                  code(ir.roots), pb, cb, n_leaves, n_long)


def _reader(ctype: str) -> str:
    return {"uint8_t": "TCG_ROM_U8", "uint16_t": "TCG_ROM_U16"}.get(ctype, "TCG_ROM_U32")


def node_tables(ir: TreeEnsembleIR, name: str, p: Packed, records: bool = True) -> str:
    """The tables of ``p``; ``records`` False leaves ``NAME_rec`` to the caller."""
    ft = int_type(0, max(ir.meta.n_features - 1, 0))
    code_t = int_type(0, int(p.roots.max(initial=0)))
    out = ""
    if ir.n_nodes and records:
        out += c_array("TCG_ROM uint32_t", f"{name}_rec", [f"0x{int(r):x}u" for r in p.words], 8)
    if ir.n_nodes:
        out += c_array(f"TCG_ROM {ft}", f"{name}_pfeat", p.pair_feat.tolist(), per_line=24)
        if p.n_long >= 0:
            k = p.pair_key.astype(np.int64)
            out += "/* key of pair q: khi[q] * 65536 + klo[min(q, n_long)] */\n"
            out += c_array("TCG_ROM int16_t", f"{name}_khi", [str(int(v) >> 16) for v in k], 16)
            lo = [f"{int(v) & 0xFFFF}u" for v in k[:p.n_long]] + ["0u"]
            out += c_array("TCG_ROM uint16_t", f"{name}_klo", lo, 12)
        else:
            out += c_array("TCG_ROM int32_t", f"{name}_pkey",
                           [str(int(k)) for k in p.pair_key], 8)
    out += c_array(f"TCG_ROM {code_t}", f"{name}_root", p.roots.tolist(), per_line=16)
    if nan_left_used(ir):
        bits = np.packbits(ir.nan_left.astype(np.uint8), bitorder="little")
        out += "/* bit i: NaN at node i goes left (sklearn's missing_go_to_left) */\n"
        out += c_array("TCG_ROM uint8_t", f"{name}_nanl", [f"0x{b:02x}u" for b in bits], 12)
    return out


def _subs(ir: TreeEnsembleIR, name: str, p: Packed, walk: WalkInput) -> dict[str, object]:
    ft = int_type(0, max(ir.meta.n_features - 1, 0))
    code_t = int_type(0, int(p.roots.max(initial=0)))
    L = f"{ir.n_nodes}u"
    if p.per_node == 1:
        rec = f"const uint32_t r = TCG_ROM_U32(&{name}_rec[c]);"
        pair = f"r & {(1 << p.pair_bits) - 1}u"
        left = f"(r >> {p.pair_bits}) & {(1 << p.child_bits) - 1}u"
        right = f"r >> {p.pair_bits + p.child_bits}"
    else:
        rec = "const uint32_t j = 3u * c;"
        pair, left = f"TCG_ROM_U32(&{name}_rec[j])", f"TCG_ROM_U32(&{name}_rec[j + 1u])"
        right = f"TCG_ROM_U32(&{name}_rec[j + 2u])"
    key = f"TCG_ROM_I32(&{name}_pkey[q])"
    if p.n_long >= 0:
        key = (f"(int32_t)TCG_ROM_I16(&{name}_khi[q]) * 65536"
               f"\n        + (int32_t)TCG_ROM_U16(&{name}_klo[q < {p.n_long}u ? q : {p.n_long}u])")
    return dict(NAME=name, IN_T=walk.in_t, L=L, REC=rec, PAIR=pair, LEFT=left, RIGHT=right,
                GET=walk.get("v", f"{_reader(ft)}(&{name}_pfeat[q])"), ROOT=_reader(code_t),
                KEY=key)


def _unrolled(step: str, s: dict[str, object], n: int, last: bool) -> str:
    """``n`` copies of ``step``, leaving the loop after each (``last``: the last too) if c is a
    leaf."""
    leave = render("tree_packed_exit.c.tmpl", **s)
    return leave.join([step] * n) + (leave if last else "")


def walk_code(ir: TreeEnsembleIR, name: str, p: Packed, walk: WalkInput,
              with_sum: bool = True) -> str:
    """``NAME_leaf`` (one tree, NaN stand-ins honoured) and, with ``with_sum``, ``NAME_sum``
    (all trees, fixed-point sums: predict's fast path)."""
    s = _subs(ir, name, p, walk)
    if ir.n_nodes == 0:  # every tree is one leaf: no walk, the root codes are the leaves
        s.update(GET="(void)v", STEP="")
        out = "\n" + render("tree_packed_leaves_only.c.tmpl", **s)
        if with_sum:
            sm = aggregation_of(ir).sums(ir, name)
            out += "\n" + render("tree_packed_sum_leaves.c.tmpl", N_TREES=ir.n_trees,
                                 DECL=indent(sm.decl, 4), ADD=indent(sm.add("c"), 8),
                                 STORE=indent(sm.store, 4), **s)
        return out
    leaf_step = render("tree_packed_nan.c.tmpl" if nan_left_used(ir) else
                       "tree_packed_step.c.tmpl", **s)
    out = "\n" + render("tree_packed_leaf.c.tmpl", STEP=indent(leaf_step, 8), **s)
    if with_sum:
        # every root a split node: the loop needs no test on entry (one per tree less)
        last = bool((p.roots < ir.n_nodes).all())
        steps = _unrolled(render("tree_packed_step.c.tmpl", **s), s, UNROLL, last)
        if p.n_long >= 0:  # split keys: the high halves decide unless they are equal
            out += "\n" + render("tree_packed_tie.c.tmpl", NOINLINE=NOINLINE, N_LONG=p.n_long,
                                 UNAME=name.upper(),
                                 **s).lstrip("\n")
            hi = render("tree_packed_step_hi.c.tmpl", UNAME=name.upper(), **s)
            steps = (f"#if defined(__AVR__) /* 8-bit: the int32 compare is cheaper */\n{steps}"
                     f"#elif defined(__ARM_ARCH_6M__) /* Cortex-M0/M0+: less code, as fast */\n"
                     f"{_unrolled(hi, s, UNROLL_6M, last)}#else\n"
                     f"{_unrolled(hi, s, UNROLL, last)}#endif\n")
        sm = aggregation_of(ir).sums(ir, name)
        out += "\n" + render("tree_packed_sum.c.tmpl", N_TREES=ir.n_trees,
                             STEPS=indent(steps, 12).replace("            #", "#"),
                             DECL=indent(sm.decl, 4),
                             ADD=indent(sm.add(f"c - {ir.n_nodes}u"), 8),
                             STORE=indent(sm.store, 4), LOOP="for (;;)" if last else
                             f"while (c < {s['L']})", **s)
    return out


def fast_sum_code(ir: TreeEnsembleIR, name: str) -> str:
    """predict's sums: ``NAME_sum`` for rows whose NaN stand-ins (if any) all go right, the
    NaN-aware ``NAME_leaf`` per tree otherwise."""
    if nan_left_used(ir):
        return render("tree_table_predict_nan.c.tmpl", NAME=name,
                      LOOP=indent(fast_sum_loop(ir, name), 4)).rstrip("\n")
    return f"    {name}_sum(v, acc);"


def packed_source(ir: TreeEnsembleIR, name: str, backend: str, *, extra_code: str = "",
                  own_sum: bool = True, doc: str = "", scan: str = "tcg_scan",
                  f64_mode: str = "", keys16: bool = False) -> CSource:
    """C of a packed-record model; ``extra_code`` (after the tables) may define ``NAME_sum``
    itself (``own_sum=False``) and the input check ``scan``."""
    walk = dataclasses.replace(walk_input(ir, name, "table"), scan=scan)
    p = pack(ir, keys16)
    code = walk_code(ir, name, p, walk, with_sum=own_sum) + extra_code
    src = tree_source(ir, name, backend, "tree_packed.c.tmpl", walk=walk,
                      fast_sum=fast_sum_code(ir, name), walk_code=code,
                      NODE_TABLES=node_tables(ir, name, p), LAYOUT=backend, LAYOUT_DOC=doc,
                      F64_MODE=f64_mode)
    src.files.update(runtime_files(("tcg_rom.h",)))
    return src


def emit_size(ir: TreeEnsembleIR, name: str) -> CSource:
    n = ir.meta.n_features
    if not 0 < n <= FPU_SCAN_MAX:
        return packed_source(ir, name, "size", doc="smallest flash: one packed record per node",
                             f64_mode=SOFT_F64, keys16=True)
    scan = size_scan(name, n)
    return packed_source(ir, name, "size", doc="smallest flash: one packed record per node",
                         f64_mode=SOFT_F64, keys16=True, extra_code=scan, scan=f"{name}_scan")
