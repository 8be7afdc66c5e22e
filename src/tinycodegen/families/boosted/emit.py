"""C for a :class:`BoostedTreesIR`, layout "table": node tables in ``static const TCG_ROM``
arrays walked by a loop (integer key compares); the boosted aggregation (``aggregate.py``:
the sum in tree order from the base values, the link, the library's predict rule) does the rest.
``_step`` (one node's decision: NaN, missing-zero band, categorical sets, the key compare) and
the rule tables are shared with the ``size`` layout (``walks.py``).
"""

from __future__ import annotations

from string import Template

import numpy as np

from tinycodegen.core.csource import CSource, c_array, c_float, int_type, rom_read
from tinycodegen.families.boosted.aggregate import BOOSTED_SUM, acc_type, boosted_source
from tinycodegen.families.boosted.ir import ZERO_F32, BoostedTreesIR
from tinycodegen.families.trees.emit_common import indent


def _bit_table(name: str, bits: np.ndarray, doc: str) -> str:
    packed = np.packbits(bits.astype(np.uint8), bitorder="little")
    return f"/* bit i: {doc} */\n" + c_array("uint8_t", name, [f"0x{b:02x}u" for b in packed],
                                              per_line=12, rom=True)


def _bit_read(name: str) -> str:
    return f"((int)(TCG_ROM_U8(&{name}[i >> 3]) >> (i & 7)) & 1)"


def _step(ir: BoostedTreesIR, name: str, thr: str) -> str:
    """The C statements deciding ``go`` at node i for the value v."""
    nanl = _bit_read(f"{name}_nanl") if ir.nan_left.any() else "0"
    key = f"go = tcg_key(tcg_i32(v)) <= {thr};"
    branches: list[tuple[str, str]] = []
    if ir.meta.nan_policy != "reject":
        branches.append(("(tcg_bits(v) & 0x7fffffffu) > 0x7f800000u", f"go = {nanl};"))
    if ir.has_categorical:
        cset = rom_read(_cset_type(ir), f"{name}_cset", "i")
        branches.append((f"{cset} >= 0", f"go = {name}_cat({cset}, v, {nanl});"))
    if ir.missing_zero.any():
        zero = int(np.float32(ZERO_F32).view(np.uint32))
        branches.append((f"{_bit_read(f'{name}_mz')} != 0 && (tcg_bits(v) & 0x7fffffffu) <= "
                         f"0x{zero:08x}u", f"go = {nanl};"))
    if not branches:
        return key
    out = ""
    for i, (cond, stmt) in enumerate(branches):
        out += f"{'if' if i == 0 else '} else if'} ({cond}) {{\n    {stmt}\n"
    return out + f"}} else {{\n    {key}\n}}"


def _cset_type(ir: BoostedTreesIR) -> str:
    return int_type(-1, max(len(ir.cat_bits) - 1, 0), False)


def _cat_fn(ir: BoostedTreesIR, name: str) -> str:
    if not ir.has_categorical:
        return ""
    w = ir.cat_bits.shape[1]
    bit = (f"(int)((TCG_ROM_U32(&{name}_cbits[s * {w} + (c >> 5)]) >> ((uint32_t)c & 31u)) "
           "& 1u)")
    if ir.cat_rule == "hgb":
        doc = ("an integer-valued v in [0, table) is\n * category v: left iff its bit is "
               "set; any other value goes where NaN goes (other)")
        body = (f"    if (v >= 0.0f && v < {c_float(32 * w)}) {{\n"
                "        const int32_t c = (int32_t)v;\n"
                f"        if ((float)c == v) {{\n            return {bit};\n        }}\n    }}\n"
                "    return other;")
    else:
        doc = ("c = (int)v (truncation;\n * outside int32: negative); c < 0 or beyond the "
               "table goes right, else left iff its bit is set")
        body = ("    (void)other;\n"
                "    if (v > -2147483648.0f && v < 2147483648.0f) {\n"
                "        const int32_t c = (int32_t)v;\n"
                f"        if (c >= 0 && c < {32 * w}) {{\n            return {bit};\n"
                "        }\n    }\n    return 0;")
    return (f"\n/* Categorical node with set s ({ir.cat_rule} rule): {doc}. */\n"
            f"static int {name}_cat(int32_t s, float v, int other)\n{{\n{body}\n}}\n")


def rule_tables(ir: BoostedTreesIR, name: str, nanl: bool = True) -> str:
    """Per-node rule tables the step (``_step``) reads: NaN direction (unless ``nanl`` is False:
    the walk already has the same bits as ``NAME_nanl``), missing-zero, categorical sets."""
    t = ""
    if nanl and ir.nan_left.any():
        t += _bit_table(f"{name}_nanl", ir.nan_left, "NaN (and missing) at node i goes left")
    if ir.missing_zero.any():
        t += _bit_table(f"{name}_mz", ir.missing_zero, "|x| <= 1e-35 is missing at node i")
    if ir.has_categorical:
        t += c_array(_cset_type(ir), f"{name}_cset", ir.cat_set.tolist(), per_line=16, rom=True)
        t += c_array("uint32_t", f"{name}_cbits", [f"0x{int(b):08x}u" for b in ir.cat_bits.ravel()],
                     per_line=6, rom=True)
    return t


def _tables(ir: BoostedTreesIR, name: str, child_t: str, feat_t: str) -> str:
    t = c_array(feat_t, f"{name}_feat", ir.feature.tolist(), per_line=24, rom=True)
    t += c_array("int32_t", f"{name}_thr", [str(int(k)) for k in ir.threshold_keys], 8, rom=True)
    t += c_array(child_t, f"{name}_left", ir.left.tolist(), per_line=16, rom=True)
    t += c_array(child_t, f"{name}_right", ir.right.tolist(), per_line=16, rom=True)
    t += c_array(child_t, f"{name}_roots", ir.roots.tolist(), per_line=16, rom=True)
    return t + rule_tables(ir, name) + BOOSTED_SUM.leaf_tables(ir, name)


TABLE_WALK = """
/* Split nodes of all trees, pre-order per tree. A child c >= 0 is a split node; c < 0 is the
 * leaf ~c. Thresholds are int32 ordered keys of the largest float not above the library's
 * threshold: a non-NaN x goes left exactly when tcg_key(x) <= the key. */
${TABLES}${CAT_FN}
/* Leaf reached by x in tree t (a loop: no recursion). */
static int32_t ${NAME}_leaf_of(int32_t t, const float *x)
{
    int32_t i = ${ROOT};
    while (i >= 0) {
        const float v = x[${FEAT}];
        int go;
${STEP}
        i = go ? ${LEFT} : ${RIGHT};
    }
    return ~i;
}
"""


def emit_boosted_table(ir: BoostedTreesIR, name: str) -> CSource:
    acc_type(ir)
    children = np.concatenate([ir.left, ir.right, ir.roots]).astype(np.int64)
    child_t = int_type(int(children.min(initial=0)), int(children.max(initial=0)), False)
    feat_t = int_type(0, max(ir.meta.n_features - 1, 0))
    walk = Template(TABLE_WALK).substitute(
        NAME=name, TABLES=_tables(ir, name, child_t, feat_t), CAT_FN=_cat_fn(ir, name),
        ROOT=rom_read(child_t, f"{name}_roots", "t"), FEAT=rom_read(feat_t, f"{name}_feat", "i"),
        LEFT=rom_read(child_t, f"{name}_left", "i"), RIGHT=rom_read(child_t, f"{name}_right", "i"),
        STEP=indent(_step(ir, name, rom_read("int32_t", f"{name}_thr", "i")), 8))
    add = BOOSTED_SUM.sums(ir, name).add(f"{name}_leaf_of(t, x)")
    fast_sum = (f"    int32_t t;\n    for (t = 0; t < {ir.n_trees}; ++t) {{\n"
                f"{indent(add, 8)}    }}")
    return boosted_source(ir, name, "table", walk.lstrip("\n"), fast_sum,
                          "node tables walked by a loop")
