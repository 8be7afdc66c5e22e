"""The trees' ``size`` and ``speed`` walks for boosted models, put together with the boosted
aggregation (``aggregate.py``): the walk takes a row to each tree's leaf, the aggregation sums
the leaves in tree order from ``base`` and applies the link and the predict rule.

- ``size``: the trees' packed node records (``trees.emit_packed.pack``: one uint32 per node,
  deduplicated (feature, key) pairs, split keys where they pay; three uint16 per node where
  one uint32 is too narrow, rather than the trees' three uint32) walked by a loop; each step is the
  table layout's ``_step`` (NaN by ``nan_left``, the missing-zero band, categorical bitsets), so
  every boosted model has it.
- ``speed``: the trees' straight-line walk (``trees.emit_inline._tree_lines``: compares of
  ordered int32 keys with constants, the likelier child on the fall-through path) adding each
  leaf's value as a constant where the walk ends: no node or leaf tables. NaN becomes the trees'
  stand-ins (``TCG_NAN_RIGHT`` in ``v``, ``TCG_NAN_LEFT`` in ``w`` at nodes that send it left).
  Categorical splits and LightGBM's missing-zero band have no compare-with-a-constant form:
  such a model is refused with one line naming the feature (the table and size layouts take it).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from tinycodegen.core.csource import CSource, c_array, int_type, rom_read
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.aggregate import (
    BOOSTED_SUM,
    acc_type,
    boosted_source,
    leaf_literal,
)
from tinycodegen.families.boosted.emit import _cat_fn, _step, rule_tables
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.trees.emit_common import WalkInput, indent, nan_left_used
from tinycodegen.families.trees.emit_inline import _tree_lines
from tinycodegen.families.trees.emit_packed import _subs, node_tables, pack


def _walk(ir: BoostedTreesIR, name: str) -> WalkInput:
    return WalkInput(name=name, raw=False, route=ir.meta.nan_policy != "reject", need_w=False,
                     need_st=False, n_features=ir.meta.n_features)


def _loop_sum(ir: BoostedTreesIR, name: str) -> str:
    add = BOOSTED_SUM.sums(ir, name).add(f"{name}_leaf_of(t, x)")
    return (f"    int32_t t;\n    for (t = 0; t < {ir.n_trees}; ++t) {{\n"
            f"{indent(add, 8)}    }}")


def emit_boosted_size(ir: BoostedTreesIR, name: str) -> CSource:
    acc_type(ir)
    p = pack(ir, keys16=True)  # type: ignore[arg-type]  # the walk reads the tree fields only
    s = _subs(ir, name, p, _walk(ir, name))  # type: ignore[arg-type]
    # three fields too wide for one uint32 but each below 2**16: three uint16 (6 B, not 12)
    short = p.per_node == 3 and int(p.words.max(initial=0)) < 1 << 16
    tables = node_tables(ir, name, p, records=not short)  # type: ignore[arg-type]
    if short and ir.n_nodes:
        tables = c_array("uint16_t", f"{name}_rec", [f"{int(w)}u" for w in p.words], 12,
                         rom=True) + tables
        s.update(PAIR=f"TCG_ROM_U16(&{name}_rec[j])", LEFT=f"TCG_ROM_U16(&{name}_rec[j + 1u])",
                 RIGHT=f"TCG_ROM_U16(&{name}_rec[j + 2u])")
    tables += rule_tables(ir, name, nanl=not nan_left_used(ir))  # type: ignore[arg-type]
    tables += BOOSTED_SUM.leaf_tables(ir, name)
    root = f"{s['ROOT']}(&{name}_root[t])"
    if ir.n_nodes == 0:
        body = f"    (void)x;\n    return (int32_t){root};\n"
    else:
        feat = rom_read(int_type(0, max(ir.meta.n_features - 1, 0)), f"{name}_pfeat", "q")
        step = _step(ir, name, str(s["KEY"]))
        node = "        const int32_t i = (int32_t)c;\n" if re.search(r"\bi\b", step) else ""
        body = (f"    uint32_t c = {root};\n    while (c < {s['L']}) {{\n        {s['REC']}\n"
                f"        const uint32_t q = {s['PAIR']};\n{node}"
                f"        const float v = x[{feat}];\n        int go;\n{indent(step, 8)}\n"
                f"        c = go ? {s['LEFT']} : {s['RIGHT']};\n    }}\n"
                f"    return (int32_t)(c - {s['L']});\n")
    walk = ("\n/* Packed node records: bits [0, pair) index the (feature, key) pair, then the "
            "left and the\n * right child's code; a code c < number of split nodes is a split "
            "node, else the leaf c - it.\n * Keys are int32 ordered keys: a non-NaN x goes left "
            f"exactly when tcg_key(x) <= the key. */\n{tables}{_cat_fn(ir, name)}"
            f"\n/* Leaf reached by x in tree t. */\nstatic int32_t {name}_leaf_of(int32_t t, "
            f"const float *x)\n{{\n{body}}}\n")
    return boosted_source(ir, name, "size", walk, _loop_sum(ir, name),
                          "one packed record per node, smallest flash")


def speed_refusal(ir: BoostedTreesIR) -> str | None:
    """Why the speed layout cannot take the model (None: it can)."""
    for what, nodes in (("categorical splits", ir.cat_set >= 0),
                        ("LightGBM's missing-zero band (zero_as_missing)", ir.missing_zero)):
        if nodes.any():
            return (f"boosted trees: --optimize speed has no {what} (feature "
                    f"{int(ir.feature[nodes.argmax()])}); use the table or size layout")
    return None


def emit_boosted_speed(ir: BoostedTreesIR, name: str) -> CSource:
    acc_type(ir)
    why = speed_refusal(ir)
    if why is not None:
        raise UnsupportedModelError(why)
    need_w = ir.meta.nan_policy != "reject" and bool(ir.nan_left.any())
    # the walk's view: NaN sent by nan_left wherever it reaches a node (w), else v
    view = SimpleNamespace(
        meta=SimpleNamespace(nan_policy="route" if need_w else "reject"),
        threshold_keys=ir.threshold_keys, child_weight=ir.child_weight, roots=ir.roots,
        feature=ir.feature, left=ir.left, right=ir.right, nan_left=ir.nan_left)
    walk = _walk(ir, name)
    used: set[str] = set()
    lines: list[str] = []
    for t in range(ir.n_trees):
        o = int(ir.tree_output[t])

        def add(leaf: int, o: int = o) -> list[str]:
            return [f"    raw[{o}] = raw[{o}] + {leaf_literal(ir, leaf)};"]

        lines += _tree_lines(view, t, walk, used, leaf_lines=add, tail="")  # type: ignore[arg-type]
    n = f"{name.upper()}_N_FEATURES"
    pre = f"    int32_t v[{n}];\n"
    if need_w:
        pre += (f"    int32_t kw[{n}];\n    const int32_t *w = v;\n"
                f"    if ((tcg_keys(x, v, {n}, TCG_NAN_RIGHT) & 2) != 0) {{\n"
                f"        tcg_key_swap(v, kw, {n}, TCG_NAN_RIGHT, TCG_NAN_LEFT);\n"
                "        w = kw;\n    }\n")
        pre += "" if "w" in used else "    (void)w;\n"
    else:
        pre += f"    (void)tcg_keys(x, v, {n}, TCG_NAN_RIGHT);\n"
    body = "    {\n" + indent(pre + "\n".join(lines), 4) + "\n    }"
    return boosted_source(ir, name, "speed", "", body,
                          "trees as code adding leaf constants, no node or leaf tables")
