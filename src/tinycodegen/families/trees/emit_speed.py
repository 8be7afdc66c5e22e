"""The ``speed`` layout for tree ensembles: predict's trees as straight-line code that adds
each leaf's fixed-point values where the walk ends (no leaf ids, no table reads on the fast
path), after the whole-vector input check.

Each test compares an int32 (raw float bits or key, see ``trees_common``) with a constant and
jumps to the child that more training weight reached, so the likelier path falls through. Rows
holding NaN that some node sends left, ``proba64`` and the float64 replay walk the packed records
of the ``size`` layout (``trees_packed``), which this layout carries as well.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinycodegen.core.csource import CSource, render, rom_read
from tinycodegen.families.trees.emit_common import WalkInput, aggregation_of, indent, walk_input
from tinycodegen.families.trees.emit_inline import _chunks, _tree_lines
from tinycodegen.families.trees.emit_packed import Packed, _subs, pack, packed_source
from tinycodegen.families.trees.ir import TreeEnsembleIR
from tinycodegen.families.trees.scan import UNROLL_SCAN, speed_scan
from tinycodegen.families.trees.vote import columns


def _leaf_adder(q: np.ndarray) -> Callable[[int], list[str]]:
    def lines(leaf: int) -> list[str]:
        return [f"    a{j} += {int(v)}u;" for j, v in enumerate(q[leaf]) if v]

    return lines


AVR_INLINE_NODES = 400  # split nodes written as code on AVR (the rest walk the packed records)


def hot_nodes(ir: TreeEnsembleIR, budget: int) -> set[int]:
    """The ``budget`` split nodes a row most likely visits (training weight reaching the node over
    its tree's total; without weights 2**-depth): each tree's chosen nodes are a top subtree."""
    n = ir.n_nodes
    prob = np.zeros(n)
    stack = [(int(r), 1.0) for r in ir.roots if r >= 0]
    w = ir.child_weight
    while stack:
        node, pr = stack.pop()
        prob[node] = pr
        total = float(w[node].sum()) if w is not None else 0.0
        for side, child in enumerate((int(ir.left[node]), int(ir.right[node]))):
            if child >= 0:
                share = float(w[node, side]) / total if total > 0 else 0.5
                stack.append((child, pr * min(share, 1.0) * (1 - 1e-9)))
    return set(np.argsort(-prob, kind="stable")[:budget].tolist())


def avr_sum_code(ir: TreeEnsembleIR, name: str, p: Packed) -> str:
    """``NAME_sum`` for AVR: the ``AVR_INLINE_NODES`` hottest split nodes (``hot_nodes``) as code,
    with shared leaf blocks; below them each tree walks the packed records (``NAME_from``)."""
    walk = walk_input(ir, name, "table")
    q, _ = columns(ir)
    n_cols = q.shape[1]
    hot = hot_nodes(ir, AVR_INLINE_NODES)
    body: list[str] = []
    blocks: list[str] = []
    used: set[str] = {"v"}
    for t in range(ir.n_trees):
        tree, tail = _avr_tree(ir, name, t, walk, used, hot)
        body += tree
        blocks += tail
    if blocks:
        body += ["    goto shared_end;"] + blocks + ["shared_end:;"]
    sm = aggregation_of(ir).sums(ir, name)
    decl = ", ".join(f"a{j} = 0u" for j in range(n_cols))
    store = "\n".join(f"    {'acc[0] = ' if sm.single else f'acc[{j}] += '}a{j};"
                      for j in range(n_cols))
    frm = ""
    if ir.n_nodes == 0:
        body.insert(0, "    (void)v;")
    if any(line.endswith("_walk:") for line in blocks):
        step, c_t = _avr_step(ir, name, p, walk)
        body.insert(0, f"    {c_t} c;\n    uint32_t leaf;")
        frm = render("tree_speed_from.c.tmpl", NAME=name, IN_T=walk.in_t, L=f"{ir.n_nodes}u",
                     STEP=indent(step, 8), C_T=c_t)
    return render("tree_speed_avr.c.tmpl", NAME=name, IN_T=walk.in_t, N_HOT=len(hot),
                  FROM=frm, DECL=decl, BODY="\n".join(body),
                  STORE=store)


def _field16(shift: int, bits: int) -> str | None:
    """C (uint16_t) of bits [shift, shift + bits) of the uint32_t r, through a 16-bit window at
    a byte offset (byte moves and few 16-bit shifts on AVR), or None if no window holds them."""
    for b in (min(shift // 8, 2), 0, 1, 2):
        if 0 <= shift - 8 * b and shift - 8 * b + bits <= 16:
            window = f"(uint16_t)(r >> {8 * b})" if b else "(uint16_t)r"
            return f"(uint16_t)(({window} >> {shift - 8 * b}) & {(1 << bits) - 1}u)"
    return None


def _avr_step(ir: TreeEnsembleIR, name: str, p: Packed, walk: WalkInput) -> tuple[str, str]:
    """(one step of ``NAME_from``, the type of c): 16-bit fields and indices where the records
    allow (one packed word per node, codes below 2**16), else the packed layout's own step."""
    s = _subs(ir, name, p, walk)
    left = _field16(p.pair_bits, p.child_bits)
    right = _field16(p.pair_bits + p.child_bits, p.child_bits)
    if p.per_node != 1 or p.pair_bits > 16 or left is None or right is None:
        return render("tree_packed_step.c.tmpl", **s), "uint32_t"
    s.update(LEFT=left, RIGHT=right, PMASK=(1 << p.pair_bits) - 1)
    return render("tree_speed_avr_step.c.tmpl", **s), "uint16_t"


def _avr_tree(ir: TreeEnsembleIR, name: str, t: int, walk: WalkInput, used: set[str],
              hot: set[int]) -> tuple[list[str], list[str]]:
    """(tree t's code, its blocks placed after all trees: shared leaf values, the packed walk)."""
    q, _ = columns(ir)
    adder = _leaf_adder(q)
    refs = _leaf_refs(ir, t)
    shared: dict[tuple[int, ...], str] = {}
    blocks: list[str] = []

    def lines(leaf: int) -> list[str]:
        key = tuple(int(v) for v in q[leaf])
        if not any(key) or refs[key] < 2:
            return adder(leaf)
        if key not in shared:
            shared[key] = f"t{t}_s{len(shared)}"
            blocks.extend([f"{shared[key]}:"] + adder(leaf) + [f"    goto t{t}_done;"])
        return [f"    goto {shared[key]};"]

    def cut(node: int) -> list[str] | None:
        return None if node in hot else [f"    c = {node}u;", f"    goto t{t}_walk;"]

    tree = _tree_lines(ir, t, walk, used, leaf_lines=lines, tail="", nan_w=False, cut=cut)
    if any(f"goto t{t}_walk;" in line for line in tree):
        blocks += [f"t{t}_walk:", f"    leaf = {name}_from(c, v) * {q.shape[1]}u;"]
        blocks += [f"    a{j} += {rom_read('uint16_t', f'{name}_leaf_q', f'leaf + {j}u')};"
                   for j in range(q.shape[1])] + [f"    goto t{t}_done;"]
    return tree, blocks


def _leaf_refs(ir: TreeEnsembleIR, t: int) -> dict[tuple[int, ...], int]:
    """How many leaves of tree t hold each fixed-point leaf value."""
    q, _ = columns(ir)
    out: dict[tuple[int, ...], int] = {}
    stack = [int(ir.roots[t])]
    while stack:
        node = stack.pop()
        if node < 0:
            key = tuple(int(v) for v in q[~node])
            out[key] = out.get(key, 0) + 1
        else:
            stack += [int(ir.left[node]), int(ir.right[node])]
    return out


def sum_code(ir: TreeEnsembleIR, name: str) -> str:
    """``NAME_sum(v, acc)``: fixed-point sums over all trees as code (one function per chunk of
    trees, ``trees_inline._chunks``)."""
    walk = walk_input(ir, name, "table")
    q, _ = columns(ir)
    n_cols = q.shape[1]
    adder = _leaf_adder(q)
    funcs, calls = [], []
    sm = aggregation_of(ir).sums(ir, name)
    ptr = "&a" if sm.single else "acc"
    for c, trees in enumerate(_chunks(ir)):
        body: list[str] = []
        used: set[str] = set()
        for t in trees:
            body += _tree_lines(ir, t, walk, used, leaf_lines=adder, tail="", nan_w=False)
        if "v" not in used:
            body.insert(0, "    (void)v;")
        decl = ", ".join(f"a{j} = 0u" for j in range(n_cols))
        store = "\n".join(f"    s[{j}] += a{j};" for j in range(n_cols))
        funcs.append(render("tree_speed_chunk.c.tmpl", NAME=name, C=c, IN_T=walk.in_t,
                            FIRST=trees.start, LAST=trees.stop - 1, DECL=decl,
                            BODY="\n".join(body), STORE=store))
        calls.append(f"    {name}_sum{c}(v, {ptr});")
    return "\n" + "\n".join(funcs) + render(
        "tree_speed_sum.c.tmpl", NAME=name, IN_T=walk.in_t, DECL=indent(sm.decl, 4),
        CALLS="\n".join(calls), STORE=indent(sm.store, 4))


def emit_speed(ir: TreeEnsembleIR, name: str) -> CSource:
    unrolled = 0 < ir.meta.n_features <= UNROLL_SCAN
    code = ("\n#if defined(__AVR__)\n" + avr_sum_code(ir, name, pack(ir)) + "#else"
            + sum_code(ir, name) + "#endif /* __AVR__ */\n"
            + (speed_scan(name, ir.meta.n_features) if unrolled else ""))
    return packed_source(ir, name, "speed", extra_code=code, own_sum=False,
                         doc="predict's trees as code; packed records for NaN rows and proba",
                         scan=f"{name}_scan" if unrolled else "tcg_scan")
