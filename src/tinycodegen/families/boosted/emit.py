"""C for a :class:`BoostedTreesIR`, layout "table": node tables in ``static const TCG_ROM``
arrays walked by a loop (integer key compares), the leaves summed in tree order from the
library's base values in ``accumulate``'s type, then the link and the library's predict rule.

predict never needs exp(): every sklearn rule decides on the raw sums (``raw >= 0``,
``raw > 0``, first argmax); the link (and libm's exp) only serves predict_proba and proba64.
"""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    CSource,
    c_array,
    c_double,
    c_float,
    header,
    int_type,
    render,
    rom_read,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.emit_lgbm import lgbm_decide
from tinycodegen.families.boosted.ir import ZERO_F32, BoostedTreesIR
from tinycodegen.families.trees.emit_common import indent
from tinycodegen.families.trees.ir import float_keys

RUNTIME = ("tcg_input.h", "tcg_rom.h", "tcg_boost.h")
PROBA64_DECL = """
/* The library's predict_proba in double, unrounded (no input check): for composite models.
 * The C computes in IEEE binary64: on avr-gcc (32-bit double) the build stops with #error. */
void {name}_proba64(const float *x, double *out);
"""
FLOAT_LINKS = ("xgb_sigmoid", "xgb_softmax")


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


def _tables(ir: BoostedTreesIR, name: str, child_t: str, feat_t: str, acc_t: str) -> str:
    keys = float_keys(ir.threshold + np.float32(0.0))  # -0.0 decides as +0.0
    t = c_array(feat_t, f"{name}_feat", ir.feature.tolist(), per_line=24, rom=True)
    t += c_array("int32_t", f"{name}_thr", [str(int(k)) for k in keys], 8, rom=True)
    t += c_array(child_t, f"{name}_left", ir.left.tolist(), per_line=16, rom=True)
    t += c_array(child_t, f"{name}_right", ir.right.tolist(), per_line=16, rom=True)
    t += c_array(child_t, f"{name}_roots", ir.roots.tolist(), per_line=16, rom=True)
    if ir.nan_left.any():
        t += _bit_table(f"{name}_nanl", ir.nan_left, "NaN (and missing) at node i goes left")
    if ir.missing_zero.any():
        t += _bit_table(f"{name}_mz", ir.missing_zero, "|x| <= 1e-35 is missing at node i")
    if ir.has_categorical:
        t += c_array(_cset_type(ir), f"{name}_cset", ir.cat_set.tolist(), per_line=16, rom=True)
        t += c_array("uint32_t", f"{name}_cbits", [f"0x{int(b):08x}u" for b in ir.cat_bits.ravel()],
                     per_line=6, rom=True)
    if ir.n_outputs > 1:
        t += c_array(int_type(0, ir.n_outputs - 1), f"{name}_out", ir.tree_output.tolist(),
                     per_line=24, rom=True)
    if acc_t == "float":
        t += c_array("float", f"{name}_leaf", [c_float(v) for v in ir.leaf_value], 6, rom=True)
    else:  # double tables are not TCG_ROM: AVR (32-bit double) stops at the #error guard
        t += "/* leaf values: exactly what the library adds */\n"
        t += c_array("double", f"{name}_leaf", [c_double(v) for v in ir.leaf_value], 4)
    return t


def _link(ir: BoostedTreesIR) -> str:
    k = ir.n_outputs
    if ir.link == "sk_binary":
        m = "raw[0]" if ir.link_param == 1.0 else f"{c_double(ir.link_param)} * raw[0]"
        return f"tcg_proba_sigmoid({m}, out);"
    calls = {"sk_softmax": f"tcg_proba_softmax(raw, {k}, out);",
             "sk_softmax_seq": f"tcg_softmax_seq(raw, {k}, out);",
             "lgbm_softmax": f"tcg_softmax_seq(raw, {k}, out);",
             "lgbm_sigmoid": f"tcg_lgbm_sigmoid(raw[0], {c_double(ir.link_param)}, out);",
             "xgb_sigmoid": "tcg_xgb_sigmoid(raw[0], out);",
             "xgb_softmax": f"tcg_xgb_softmax(raw, {k}, out);"}
    return calls[ir.link]


def _decide(ir: BoostedTreesIR, name: str, acc_t: str) -> str:
    zero = "0.0f" if acc_t == "float" else "0.0"
    rule = ir.predict_rule
    lgbm = lgbm_decide(ir, name)
    if lgbm is not None:
        return lgbm
    if rule in ("raw_ge_zero", "raw_gt_zero"):
        return f"return raw[0] {'>=' if rule == 'raw_ge_zero' else '>'} {zero} ? 1 : 0;"
    pre, v = "", "raw"
    if rule == "proba_gt_half" and ir.link == "xgb_sigmoid":  # p > 0.5 iff raw >= cut
        from tinycodegen.families.boosted.link_xgboost import sigmoid_cut

        return f"return raw[0] >= {c_float(sigmoid_cut())} ? 1 : 0;"
    if rule == "proba_gt_half":
        return (f"double p[{ir.meta.n_classes}];\n{name}_link(raw, p);\n"
                "return p[1] > 0.5 ? 1 : 0;")
    if rule == "proba_argmax":
        pre, v = f"double p[{ir.meta.n_classes}];\n{name}_link(raw, p);\n", "p"
    if rule == "proba_argmax" and ir.link == "xgb_softmax":  # expf only near a tie
        pre = ("{\n    const int32_t clear = tcg_xgb_clear_argmax(raw, "
               f"{ir.n_outputs});\n    if (clear >= 0) {{\n        return clear;\n    }}\n}}\n"
               + pre)
    n = ir.meta.n_classes if rule == "proba_argmax" else ir.n_outputs
    return (pre + f"int32_t k, best = 0;\nfor (k = 1; k < {n}; ++k) {{\n"
            f"    if ({v}[k] > {v}[best]) {{\n        best = k;\n    }}\n}}\nreturn best;")


def _checks(ir: BoostedTreesIR, name: str) -> tuple[str, str, str]:
    """(refusal function, predict's check, predict_proba's check)."""
    up, policy = name.upper(), ir.meta.nan_policy
    fn = ""
    if policy == "accept":
        feats = np.flatnonzero(ir.inf_reject)
        if not len(feats):
            return "", "", ""
        tests = "\n".join(f"    r |= (tcg_bits(x[{f}]) & 0x7fffffffu) == 0x7f800000u;"
                          for f in feats)
        fn = ("\n/* The library refuses +-inf in these features. */\n"
              f"static int {name}_refused(const float *x)\n{{\n    int r = 0;\n{tests}\n"
              "    return r;\n}\n")
        cond = f"{name}_refused(x)"
    else:
        cond = f"!tcg_input_ok(x, {up}_N_FEATURES, {1 if policy == 'route' else 0})"
        fmax = np.finfo(np.float32).max
        limits = [(f, lo, hi) for f, (lo, hi) in enumerate(ir.x_range)
                  if lo > -fmax or hi < fmax]
        if limits:
            tests = " ||\n           ".join(f"x[{f}] < {c_float(lo)} || x[{f}] > {c_float(hi)}"
                                              for f, lo, hi in limits)
            fn = ("\n/* Finite values the library refuses (a scaler's float32 result would "
                  f"overflow). */\nstatic int {name}_out_of_range(const float *x)\n{{\n"
                  f"    return {tests};\n}}\n")
            cond += f" || {name}_out_of_range(x)"
    check = f"    if ({cond}) {{\n        return -1;\n    }}"
    check_p = f"    if ({cond}) {{\n        tcg_zero(out, {up}_N_CLASSES);\n        return;\n    }}"
    return fn, check, check_p


def emit_boosted_table(ir: BoostedTreesIR, name: str) -> CSource:
    acc_t = "float" if ir.accumulate == "float32" else "double"
    if (acc_t == "float") != (ir.link in FLOAT_LINKS):
        raise UnsupportedModelError(f"boosted trees: link {ir.link} with a {acc_t} sum")
    children = np.concatenate([ir.left, ir.right, ir.roots]).astype(np.int64)
    child_t = int_type(int(children.min(initial=0)), int(children.max(initial=0)), False)
    feat_t = int_type(0, max(ir.meta.n_features - 1, 0))
    refused, check, check_p = _checks(ir, name)
    base = "\n".join(f"    raw[{k}] = {c_float(b) if acc_t == 'float' else c_double(b)};"
                     for k, b in enumerate(ir.base))
    leaf_of = f"{name}_leaf_of(t, x)"
    link = (f"\n/* The library's probabilities from the raw outputs ({ir.link}). */\n"
            f"static void {name}_link(const {acc_t} *raw, double *out)\n{{\n"
            f"    {_link(ir)}\n}}\n")
    subs = dict(
        NAME=name, UNAME=name.upper(), VERSION=__version__, N_TREES=ir.n_trees,
        N_NODES=ir.n_nodes, N_OUT=ir.n_outputs, N_PROBA=ir.meta.n_classes, ACC_T=acc_t,
        TABLES=_tables(ir, name, child_t, feat_t, acc_t),
        ROOT=rom_read(child_t, f"{name}_roots", "t"), FEAT=rom_read(feat_t, f"{name}_feat", "i"),
        LEFT=rom_read(child_t, f"{name}_left", "i"), RIGHT=rom_read(child_t, f"{name}_right", "i"),
        STEP=indent(_step(ir, name, rom_read("int32_t", f"{name}_thr", "i")), 8),
        CAT_FN=_cat_fn(ir, name), LINK_FN=link, BASE=base,
        OUT="0" if ir.n_outputs == 1 else rom_read(int_type(0, ir.n_outputs - 1),
                                                   f"{name}_out", "t"),
        LEAF_READ=(rom_read("float", f"{name}_leaf", leaf_of) if acc_t == "float"
                   else f"{name}_leaf[{leaf_of}]"),
        LINK=f"    {name}_link(raw, out);", REFUSED_FN=refused, CHECK=check,
        CHECK_PROBA=check_p, DECIDE=indent(_decide(ir, name, acc_t), 4),
    )
    doc = (f" * {ir.n_trees} tree(s), {ir.n_nodes} split nodes, {ir.n_leaves} leaves; raw sums in "
           f"{acc_t}, tree order.\n * predict decides on the raw sums as the library does "
           "(no exp); predict_proba uses libm's exp.")
    files = {f"{name}.h": header(ir.meta, name, "table", decls=PROBA64_DECL.format(name=name),
                                 doc=doc),
             f"{name}.c": render("boosted_table.c.tmpl", **subs)}
    files.update(runtime_files(RUNTIME))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", guarantee="exact")
