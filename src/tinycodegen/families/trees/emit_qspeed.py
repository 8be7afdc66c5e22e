"""The ``speed`` layout of quantized tree ensembles (``--quantize int8|int16 --optimize speed``):
the float speed layout's straight-line walk (``emit_inline._tree_lines``) over the quantized
node DAG, each leaf adding its integer fractions as constants where the walk ends (no key
tables; the splits a row rarely visits stay records, ``emit_qcold``).

A split ``bin_f(x) <= j`` is written as the compare it stands for, ``x <= t_j``, on the ints
the float walks compare (``emit_common.WalkInput``): the raw bits of x when every threshold is
>= +0 (the ``nodes`` strategy's test), else ordered keys (``tcg_keys``); NaN is a stand-in in a
copy of x (``TCG_NAN_RIGHT`` in v, ``TCG_NAN_LEFT`` in w, read by the splits that send it left:
``emit_qparts.nan_left_bits``), filled only for rows holding NaN. So every row reaches the
leaf the table walk and the reference reach. The input check is the table's (``_scan``).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, render, rom_read
from tinycodegen.families.trees.emit_common import (
    WalkInput,
    inputs_code,
    proba_inputs,
    walk_input,
)
from tinycodegen.families.trees.emit_inline import _tree_lines, chunk_trees
from tinycodegen.families.trees.emit_qcold import (
    COLD_VISITS,
    MIN_NODES,
    ColdPlan,
    cold_code,
    plan,
)
from tinycodegen.families.trees.emit_qparts import _scan, nan_left_bits, threshold_keys
from tinycodegen.families.trees.emit_quantized import exports, qtree_source
from tinycodegen.families.trees.emit_speed import _leaf_adder
from tinycodegen.families.trees.qir import QuantizedTreeIR

RUNTIME = ("tcg_input.h", "tcg_vote.h")


def walk_view(ir: QuantizedTreeIR) -> SimpleNamespace:
    """What ``_tree_lines`` and ``walk_input`` read, for the quantized DAG: each split's
    threshold as the float walks' int32 key (``float_keys``: the unsigned key minus 2^31)."""
    ukeys = threshold_keys(ir.thresholds)[ir.thr_offset[ir.feature] + ir.bin]
    keys = (ukeys.astype(np.int64) - (1 << 31)).astype(np.int32)
    return SimpleNamespace(
        meta=ir.meta, threshold_keys=keys, raw_bits_ok=bool((keys >= 0).all()),
        child_weight=ir.child_weight, roots=ir.roots, feature=ir.feature, left=ir.left,
        right=ir.right, nan_left=nan_left_bits(ir))


def _reach(ir: QuantizedTreeIR, t: int) -> int:
    """Split nodes written for tree t (a node the DAG shares is written once per path)."""
    count, stack = 0, [int(ir.roots[t])]
    while stack:
        node = stack.pop()
        if node >= 0:
            count += 1
            stack += [int(ir.left[node]), int(ir.right[node])]
    return count


def chunks(ir: QuantizedTreeIR) -> list[range]:
    """Consecutive trees per sum function (``emit_inline.chunk_trees`` of the written nodes)."""
    return chunk_trees([_reach(ir, t) for t in range(ir.n_trees)])


def _cold_block(name: str, t: int, stored: int, leaf_t: str, route: bool) -> list[str]:
    """Tree t's exit to the records (``emit_qcold``), read from v: x itself, or for a row
    holding NaN its copy where NaN is TCG_NAN_RIGHT, still a NaN for the records' own test."""
    walk = f"{name}_leaf_nan(c, v)" if route else f"{name}_leaf(c, v)"
    return ([f"t{t}_walk:", f"    leaf = {walk} * {stored}u;"]
            + [f"    a{j} += {rom_read(leaf_t, f'{name}_leafq', f'leaf + {j}u')};"
               for j in range(stored)] + [f"    goto t{t}_done;"])


def sums_code(ir: QuantizedTreeIR, name: str, walk: WalkInput, stored: int,
              cold: ColdPlan | None) -> list[str]:
    """The sum functions ``NAME_sum<c>(v, w, s)`` over consecutive trees."""
    if stored == 0:
        return []
    view = walk_view(ir)
    adder = _leaf_adder(ir.leaf_q[:, :stored])
    leaf_t = "uint8_t" if ir.mode == "int8" else "uint16_t"
    funcs = []
    for c, trees in enumerate(chunks(ir)):
        used: set[str] = set()
        body: list[str] = []
        blocks: list[str] = []
        for t in trees:

            def cut(node: int, t: int = t) -> list[str] | None:
                if cold is None or node in cold.hot:
                    return None
                return [f"    c = {cold.index[node]}u;", f"    goto t{t}_walk;"]

            lines = _tree_lines(view, t, walk, used, leaf_lines=adder, tail="",  # type: ignore[arg-type]
                                cut=cut)
            if any(line.endswith(f"goto t{t}_walk;") for line in lines):
                blocks += _cold_block(name, t, stored, leaf_t, walk.route)
                if not any(line.startswith(f"t{t}_done:") for line in lines):
                    lines.append(f"t{t}_done:;")
            body += lines
        head = [f"    (void){a};" for a in ("v", "w") if a not in used]
        if blocks:
            head = [h for h in head if h != "    (void)v;"] + ["    uint32_t c, leaf;"]
            body += ["    goto cold_end;", *blocks, "cold_end:;"]
        funcs.append(render(
            "qtree_speed_sum.c.tmpl", NAME=name, C=c, IN_T=walk.in_t, FIRST=trees.start,
            LAST=trees.stop - 1, DECL=", ".join(f"a{j} = 0u" for j in range(stored)),
            BODY="\n".join(head + body),
            STORE="\n".join(f"    s[{j}] += a{j};" for j in range(stored))))
    return funcs


def _entry(walk: WalkInput, funcs: list[str], name: str) -> dict[str, str]:
    """NAME_qscores' input check (``NAME_inputs``: raw bits read x itself unless the row holds
    NaN; keys are written first) and its one call per sum function: one call site, so
    compilers inline the walk (the copies with NaN stand-ins are reserved on its stack and
    filled only for rows holding NaN)."""
    in_t = walk.in_t
    pre = proba_inputs(walk) + ("" if walk.need_w else f"\n    const {in_t} *w = v;")
    if not funcs:
        pre += "\n    (void)v;\n    (void)w;"
    calls = "".join(f"    {name}_sum{c}(v, w, acc);\n" for c in range(len(funcs)))
    return dict(INPUTS=inputs_code(walk) + "\n", PRE=pre + "\n", CALLS=calls)


def emit_qtree_speed(ir: QuantizedTreeIR, name: str, cold_visits: float = COLD_VISITS,
                     min_nodes: int = MIN_NODES) -> CSource:
    """The speed layout; ``cold_visits`` / ``min_nodes``: where the records take over
    (``emit_qcold.plan``; tests force every split into records or into code)."""
    up = name.upper()
    stored = max(ir.meta.n_classes - 1, 0)  # the last class is the denominator minus the others
    scan = _scan(ir, name)
    walk = dataclasses.replace(walk_input(walk_view(ir), name, "inline"),  # type: ignore[arg-type]
                               scan=scan["SCAN_FN"])
    cold = plan(ir, cold_visits, min_nodes) if stored and walk.raw else None  # records: floats
    funcs = sums_code(ir, name, walk, stored, cold)
    entry = _entry(walk, funcs, name)
    rest = " - ".join([f"{ir.denominator}u"] + [f"acc[{j}]" for j in range(stored)])
    key_doc = ("x's raw float bits (every threshold is >= +0, so a negative x, -0.0\n * "
               "included, is below all of them)" if walk.raw else "ordered keys (tcg_keys)")
    c_text = render(
        "qtree_speed.c.tmpl", NAME=name, UNAME=up, VERSION=__version__, MODE=ir.mode,
        N_TREES=ir.n_trees, N_NODES=ir.n_nodes, KEY_DOC=key_doc, SCALE=ir.scale,
        K_STORED=stored, DEN=ir.denominator, SCAN=scan["SCAN"], INPUTS=entry["INPUTS"],
        SUMS=(cold_code(ir, name, cold) if cold else "") + "\n".join(funcs), PRE=entry["PRE"],
        REJECT_MASK=1 if walk.route else 3, CALLS=entry["CALLS"], REST=rest,
        EXPORTS=exports(ir, name))
    return qtree_source(ir, name, "speed", c_text, runtime=RUNTIME,
                        routing=", speed layout: each split compares x\n * with its threshold "
                        "exactly", note="layout: speed (splits as code, leaf values as constants)")
