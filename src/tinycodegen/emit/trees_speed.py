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

from tinycodegen.emit.common import CSource, render
from tinycodegen.emit.registry import register_emitter
from tinycodegen.emit.trees_common import columns, indent, sums, walk_input
from tinycodegen.emit.trees_inline import _chunks, _tree_lines
from tinycodegen.emit.trees_packed import packed_source
from tinycodegen.ir.trees import TreeEnsembleIR


def _leaf_adder(q: np.ndarray) -> Callable[[int], list[str]]:
    def lines(leaf: int) -> list[str]:
        return [f"    a{j} += {int(v)}u;" for j, v in enumerate(q[leaf]) if v]

    return lines


def sum_code(ir: TreeEnsembleIR, name: str) -> str:
    """``NAME_sum(v, acc)``: fixed-point sums over all trees as code (one function per chunk of
    trees, ``trees_inline._chunks``)."""
    walk = walk_input(ir, name, "table")
    q, _ = columns(ir)
    n_cols = q.shape[1]
    adder = _leaf_adder(q)
    funcs, calls = [], []
    sm = sums(ir, name)
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


UNROLL_SCAN = 64  # models with up to this many features get an unrolled input check


def _asm_lines(n: int) -> list[str]:
    """Thumb-2: count the values of x[0..n) whose exponent is all ones (see the template)."""
    out = []
    for _ in range(n // 4):
        out.append("ldmia %[p]!, {r4, r5, r6, r8}")
        for r in ("r4", "r5", "r6", "r8"):
            out += [f"cmn %[k], {r}, lsl #1", "adc %[bad], %[bad], #0"]
    for _ in range(n % 4):
        out += ["ldr r4, [%[p]], #4", "cmn %[k], r4, lsl #1", "adc %[bad], %[bad], #0"]
    return [f'        "{line}\\n\\t"' for line in out]


def scan_code(ir: TreeEnsembleIR, name: str) -> str:
    n = ir.meta.n_features
    terms = [f"TCG_NONFINITE(tcg_bits(x[{i}]))" for i in range(n)]
    lines = [" | ".join(terms[i:i + 3]) for i in range(0, n, 3)]
    return "\n" + render("tree_speed_scan.c.tmpl", NAME=name, UNAME=name.upper(),
                         TERMS="        " + "\n        | ".join(lines),
                         ASM="\n".join(_asm_lines(n)))


@register_emitter("tree_ensemble", "speed")
def emit_speed(ir: TreeEnsembleIR, name: str) -> CSource:
    unrolled = 0 < ir.meta.n_features <= UNROLL_SCAN
    code = sum_code(ir, name) + (scan_code(ir, name) if unrolled else "")
    return packed_source(ir, name, "speed", extra_code=code, own_sum=False,
                         doc="predict's trees as code; packed records for NaN rows and proba",
                         scan=f"{name}_scan" if unrolled else "tcg_scan")
