"""C writer of quantized boosted trees (``qboosted_trees``, layout "table"): integers only.

Bins as the quantized forests make them (``tcg_qbin.h``: keys of the float32 thresholds, a
binary search per feature), one loop per tree over node tables in ``TCG_ROM`` (no recursion),
an int32 sum per raw output, and qnet's 16-bit sigmoid / exp tables with its exact integer
quotient (``tcg_qnet.h``) for predict_proba. No float arithmetic and no double anywhere: the
only float operations are reading input bits and writing the quotient's bits.
"""

from __future__ import annotations

from string import Template

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, header, int_type, render, rom_read
from tinycodegen.core.runtime import runtime_files
from tinycodegen.families.boosted.qir import QBoostedTreesIR
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.trees.emit_qparts import threshold_keys

RUNTIME = ("tcg_qbin.h", "tcg_qnet.h")
DECLS = """
/* Quantized model (${MODE}): integer raw scores, one unit = 2^-(${SHIFT}) of the float raw
 * score. Writes ${UNAME}_N_OUTPUTS scores and returns 1, or writes zeros and returns 0 for
 * rejected input. */
#define ${UNAME}_QUANTIZE "${MODE}"
#define ${UNAME}_N_OUTPUTS ${K}
int32_t ${NAME}_qraw(const float *x, int32_t *acc);
/* predict_proba as integers: writes the ${UNAME}_N_CLASSES numerators and returns their
 * denominator (predict_proba is num[k] / den), or zeros and 0 for rejected input. */
uint32_t ${NAME}_qproba(const float *x, uint32_t *num);
"""

PROBA_SIGMOID = """    int32_t p;
    if (!${NAME}_qraw(x, acc)) {
        num[0] = 0u;
        num[1] = 0u;
        return 0u;
    }
    p = tcg_q_sigmoid(${NAME}_sig, tcg_q_requant((int64_t)acc[0], ${MULT}, ${PSHIFT}));
    num[0] = (uint32_t)(65535 - p);
    num[1] = (uint32_t)p;
    return 65535u;"""

PROBA_SOFTMAX = """    int32_t k, top;
    uint32_t sum = 0u;
    if (!${NAME}_qraw(x, acc)) {
        for (k = 0; k < ${K}; ++k) {
            num[k] = 0u;
        }
        return 0u;
    }
    top = acc[tcg_argmax_i32(acc, ${K})];
    for (k = 0; k < ${K}; ++k) {
        const int64_t d = tcg_q_requant((int64_t)top - acc[k], ${MULT}, ${PSHIFT});
        num[k] = (uint32_t)tcg_q_interp_u16(${NAME}_exp, 256,
                                            65536 - (int64_t)tcg_q_clamp(d, 0, 65536));
        sum += num[k];
    }
    return sum;"""


def _rom(ctype: str, name: str, values: np.ndarray | list[int], per_line: int = 16) -> str:
    return c_array(ctype, name, [str(int(v)) for v in values], per_line=per_line, rom=True)


def _bits(name: str, values: np.ndarray) -> str:
    packed = np.packbits(np.asarray(values, np.uint8), bitorder="little")
    return c_array("uint8_t", name, [f"0x{b:02x}u" for b in packed], 16, rom=True)


def _bit(name: str) -> str:
    """Bit c of a packed TCG_ROM bit table, as an int."""
    byte = rom_read("uint8_t", name, "(uint32_t)c >> 3")
    return f"(int)(((uint32_t){byte} >> ((uint32_t)c & 7u)) & 1u)"


def _node_parts(ir: QBoostedTreesIR, name: str) -> dict[str, str]:
    """Node tables and the split test, one branch per rule the model uses (NaN, category,
    zero-as-missing, numeric), in the order ``QBoostedTreesIR.apply`` gives them priority."""
    feat_t = int_type(0, max(ir.meta.n_features - 1, 0))
    bin_t = int_type(0, int(ir.bin.max(initial=0)))
    kids = np.concatenate([ir.left, ir.right, ir.roots, [0]])
    child_t = int_type(int(kids.min()), int(kids.max()), unsigned_ok=False)
    tables = (_rom(feat_t, f"{name}_feat", ir.feature) + _rom(bin_t, f"{name}_bin", ir.bin)
              + _rom(child_t, f"{name}_left", ir.left) + _rom(child_t, f"{name}_right", ir.right))
    route, has_mz = ir.meta.nan_policy != "reject", bool(ir.missing_zero.any())
    has_cat = bool((ir.cat_set >= 0).any())
    nan_bit = _bit(f"{name}_nanl")
    if route or has_mz or (has_cat and ir.cat_other_nan):
        tables += _bits(f"{name}_nanl", ir.nan_left)
    pre, branches = "", []
    if route:
        branches.append((f"b == {ir.nan_code}u", f"go = {nan_bit};"))
    if has_cat:
        set_t = int_type(-1, len(ir.cat_bits) - 1, unsigned_ok=False)
        map_t = "uint8_t" if ir.catmap.max(initial=0) < 255 else "uint16_t"
        none = 255 if map_t == "uint8_t" else 65535
        off_t = int_type(0, int(ir.thr_offset[-1]))
        tables += (_rom(set_t, f"{name}_catset", ir.cat_set)
                   + _rom(map_t, f"{name}_catmap", np.where(ir.catmap < 0, none, ir.catmap))
                   + c_array("uint32_t", f"{name}_catbits",
                             [f"0x{int(w):08x}u" for w in ir.cat_bits.ravel()], 8, rom=True))
        pre = f"        const int32_t s = (int32_t){rom_read(set_t, f'{name}_catset', 'c')};\n"
        at = f"(uint32_t){rom_read(off_t, f'{name}_off', 'f')} + f + b"
        word = rom_read("uint32_t", f"{name}_catbits",
                        f"(uint32_t)s * {ir.cat_bits.shape[1]}u + (k >> 5)")
        other = nan_bit if ir.cat_other_nan else "0"
        branches.append(("s >= 0", (
            f"const uint32_t k = (uint32_t){rom_read(map_t, f'{name}_catmap', at)};\n"
            f"            go = k == {none}u ? {other} : (int)(({word} >> (k & 31u)) & 1u);")))
    if has_mz:
        z_t = int_type(0, int(max(ir.zhi.max(initial=0), 0)))
        tables += (_bits(f"{name}_mz", ir.missing_zero)
                   + _rom(z_t, f"{name}_zlo", np.maximum(ir.zlo, 0))
                   + _rom(z_t, f"{name}_zhi", np.maximum(ir.zhi, 0)))
        branches.append((
            f"{_bit(f'{name}_mz')} && b > (uint32_t){rom_read(z_t, f'{name}_zlo', 'f')} && "
            f"b <= (uint32_t){rom_read(z_t, f'{name}_zhi', 'f')}", f"go = {nan_bit};"))
    numeric = f"go = b <= (uint32_t){rom_read(bin_t, f'{name}_bin', 'c')};"
    test = pre
    for i, (cond, stmt) in enumerate(branches):
        test += f"        {'if' if i == 0 else '} else if'} ({cond}) {{\n            {stmt}\n"
    test += (f"        }} else {{\n            {numeric}\n        }}" if branches
             else f"        {numeric}")
    docs = [", NaN goes left where bit c of _nanl is set" if route else "",
            "; categorical: _catset, _catmap (category of (f, bin)), _catbits" if has_cat else "",
            "; zero-as-missing: _mz, band zlo < bin <= zhi" if has_mz else ""]
    return dict(NODE_TABLES=tables, NODE_TEST=test, CHILD_T=child_t,
                FEAT_C=rom_read(feat_t, f"{name}_feat", "c"),
                LEFT_C=rom_read(child_t, f"{name}_left", "c"),
                RIGHT_C=rom_read(child_t, f"{name}_right", "c"), NANL_DOC="".join(docs))


def _prep_parts(ir: QBoostedTreesIR, name: str) -> dict[str, str]:
    keys = threshold_keys(ir.thresholds)
    tables = c_array("uint32_t", f"{name}_thr", [f"0x{int(v):08x}u" for v in keys], 8, rom=True)
    off_t = int_type(0, int(ir.thr_offset[-1]))
    tables += _rom(off_t, f"{name}_off", ir.thr_offset)
    policy = ir.meta.nan_policy
    nan_case = (f"bins[f] = {ir.nan_code}u; /* NaN: routed by each split's NaN bit */"
                if policy != "reject" else "return 0; /* NaN: rejected, as the library does */")
    inf_case = "" if policy == "accept" else (
        "\n            if ((u & 0x7fffffffu) == 0x7f800000u) {\n"
        "                return 0; /* +-inf: rejected, as the library does */\n"
        "            }")
    if policy == "accept" and ir.inf_reject.any():
        tables += "/* features where +-inf is rejected (HGB's categorical columns) */\n"
        tables += _rom("uint8_t", f"{name}_infrej", ir.inf_reject.astype(np.int64))
        inf_case = (f"\n            if ((u & 0x7fffffffu) == 0x7f800000u && "
                    f"{rom_read('uint8_t', f'{name}_infrej', 'f')} != 0u) {{\n"
                    "                return 0; /* +-inf: rejected here, as the library does */\n"
                    "            }")
    return dict(THR_TABLES=tables, NAN_CASE=nan_case, INF_CASE=inf_case,
                BIN_T=f"uint{ir.bin_bits}_t",
                OFF_F=rom_read(off_t, f"{name}_off", "f"),
                OFF_F1=rom_read(off_t, f"{name}_off", "f + 1"))


def _sum_parts(ir: QBoostedTreesIR, name: str, child_t: str) -> dict[str, str]:
    leaf_t = "int8_t" if ir.mode == "int8" else "int16_t"
    tables = _rom(leaf_t, f"{name}_leafm", ir.leaf_q >> ir.leaf_exp)
    value = f"(int32_t){rom_read(leaf_t, f'{name}_leafm', 'leaf')}"
    if ir.leaf_exp.any():  # leaf = mantissa * 2^exponent, exponents as 4-bit pairs
        pairs = ir.leaf_exp if len(ir.leaf_exp) % 2 == 0 else np.append(ir.leaf_exp, 0)
        tables += c_array("uint8_t", f"{name}_leafe",
                          [f"0x{int(lo | hi << 4):02x}u" for lo, hi in pairs.reshape(-1, 2)],
                          16, rom=True)
        byte = rom_read("uint8_t", f"{name}_leafe", "leaf >> 1")
        value = f"{value} * ((int32_t)1 << (((uint32_t){byte} >> ((leaf & 1u) * 4u)) & 15u))"
    tables += _rom(child_t, f"{name}_root", ir.roots)
    out_t = "0"
    if not ir.binary:
        tables += _rom("uint8_t", f"{name}_out", ir.tree_output)
        out_t = rom_read("uint8_t", f"{name}_out", "t")
    tables += _rom("int32_t", f"{name}_base", ir.base_q, per_line=8)
    if ir.binary:
        link = c_array("uint16_t", f"{name}_sig", [f"{int(v)}u" for v in ops.sigmoid_table()],
                       12, rom=True)
        link = ("/* 65535 * expit(i / 8), i = 0 .. 128 (families/mlp/qnet_ops.py sigmoid_table)"
                " */\n" + link)
        predict = "acc[0] >= 0 ? 1 : 0" if ir.predict_ge else "acc[0] > 0 ? 1 : 0"
    else:
        link = c_array("uint16_t", f"{name}_exp", [f"{int(v)}u" for v in ops.exp_table()],
                       12, rom=True)
        link = "/* 65535 * exp(v), v = -16 .. 0 in steps of 1/16 (qnet_ops exp_table) */\n" + link
        predict = f"tcg_argmax_i32(acc, {ir.n_outputs})"
    return dict(LEAF_TABLES=tables, LINK_TABLE=link, PREDICT=predict,
                ROOT_T=rom_read(child_t, f"{name}_root", "t"), OUT_T=out_t,
                LEAF_VALUE=value,
                BASE_K=rom_read("int32_t", f"{name}_base", "k"))


def qboost_notes(ir: QBoostedTreesIR) -> tuple[str, ...]:
    s = ir.stats
    return (f"quantized {ir.mode}: {ir.n_trees} trees, {ir.n_nodes} split nodes, "
            f"{len(ir.thresholds)} thresholds ({ir.bin_bits}-bit bins), leaves as {ir.mode} "
            f"mantissas x 2^0..2^{int(ir.leaf_exp.max(initial=0))} in units of 2^-{ir.shift} "
            f"(max |leaf| {s.get('max_abs_leaf', 0.0):.4g}, max rounding "
            f"{s.get('leaf_max_error', 0.0):.3g})",)


def emit_qboosted_table(ir: QBoostedTreesIR, name: str) -> CSource:
    up = name.upper()
    nodes = _node_parts(ir, name)
    subs: dict[str, object] = dict(
        NAME=name, UNAME=up, VERSION=__version__, MODE=ir.mode, N_TREES=ir.n_trees,
        N_NODES=ir.n_nodes, SHIFT=ir.shift, K=ir.n_outputs, MULT=f"(int64_t){ir.proba_mult}",
        PSHIFT=ir.proba_shift, **nodes, **_prep_parts(ir, name),
        **_sum_parts(ir, name, nodes["CHILD_T"]))
    proba = PROBA_SIGMOID if ir.binary else PROBA_SOFTMAX
    subs["PROBA"] = Template(proba).substitute(subs)
    doc = (f" * Quantized ({ir.mode}): inputs are binned exactly against every split value "
           "(routing equals the float\n"
           " * model's); leaf values are rounded to a fixed-point grid, so predict and "
           "predict_proba may differ\n * from the library where that rounding decides.")
    decls = Template(DECLS).substitute(NAME=name, UNAME=up, MODE=ir.mode, SHIFT=ir.shift,
                                       K=ir.n_outputs)
    files = {
        f"{name}.h": header(ir.meta, name, f"table, quantized {ir.mode}", guarantee="reference",
                            decls=decls, doc=doc),
        f"{name}.c": render("qboosted_table.c.tmpl", **subs),
    }
    files.update(runtime_files(RUNTIME))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", guarantee="reference",
                   notes=qboost_notes(ir))
