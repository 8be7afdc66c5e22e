"""The two ways the quantized-tree C prepares its input (both exact for every float32 input).

``bins`` (eager): every feature is binned once per inference by a binary search over its
threshold keys; splits compare the small integer bin with their j. ``keys`` (lazy): no binning
pass; a split compares the input's bits, as an order-preserving integer, with the key of its own
threshold (``bin_f(x) <= j`` exactly when ``x <= t_j``), which costs one table read per split
instead of a search per feature. NaN is routed by ``nan_bin`` (bins) or by a per-split bit
(keys), as ``ir/qtrees.py`` defines it.
"""

from __future__ import annotations

import numpy as np

from tinycodegen.core.bits import f32_ukeys
from tinycodegen.core.csource import c_array, int_type, render, rom_read
from tinycodegen.families.trees.qir import QuantizedTreeIR
from tinycodegen.families.trees.qpack import NodePacking, nan_bits
from tinycodegen.families.trees.scan import UNROLL_SCAN, speed_scan

STRATEGIES = {
    "bins": "eager bins (a binary search per feature per inference; splits compare bins)",
    "keys": "lazy bins (splits compare the input's bits with their own threshold's key)",
    "nodes": "lazy bins, each split's threshold key in its own 2-word record (emit_qnodes)",
}


def threshold_keys(thresholds: np.ndarray) -> np.ndarray:
    """tcg_f32_key of each float32 threshold (order-preserving unsigned keys); -0.0 is stored
    as +0.0, so no threshold takes the key 0x7fffffff that an input -0.0 gets."""
    return f32_ukeys(np.asarray(thresholds, dtype=np.float32) + np.float32(0.0))


def nan_left_bits(ir: QuantizedTreeIR) -> np.ndarray:
    """bool per split: NaN goes left (nan_bin 0, or the split's own bit where routing is mixed)."""
    if ir.meta.nan_policy != "route":
        return np.zeros(ir.n_nodes, dtype=bool)
    return (ir.nan_bin[ir.feature] == 0) | nan_bits(ir)


def bins_parts(ir: QuantizedTreeIR, name: str, p: NodePacking,
               root_t: str) -> dict[str, object]:
    up, bin_t = name.upper(), f"uint{ir.bin_bits}_t"
    keys = threshold_keys(ir.thresholds)
    tables = c_array("uint32_t", f"{name}_thr", [f"0x{int(v):08x}u" for v in keys], per_line=8,
                     rom=True)
    off_t = int_type(0, int(ir.thr_offset[-1]))
    tables += c_array(off_t, f"{name}_off", [f"{int(v)}u" for v in ir.thr_offset], 16, rom=True)
    if ir.meta.nan_policy == "route":
        tables += "/* the bin NaN takes: 0 (left at every split), m_f (right), or the NaN code */\n"
        tables += c_array(bin_t, f"{name}_nanbin", [f"{int(v)}u" for v in ir.nan_bin], 16,
                          rom=True)
        nan_case = f"bins[f] = {rom_read(bin_t, f'{name}_nanbin', 'f')}; /* NaN */"
    else:
        nan_case = "return 0; /* NaN: rejected, as sklearn rejects it */"
    nanl = f" || (b == {ir.nan_code}u && {up}_NANL(w))" if p.fields["nanl"][2] else ""
    subs = dict(NAME=name, UNAME=up, BIN_T=bin_t, NAN_CASE=nan_case,
                OFF_F=rom_read(off_t, f"{name}_off", "f"),
                OFF_F1=rom_read(off_t, f"{name}_off", "f + 1"))
    return dict(
        THR_TABLES=tables,
        THR_DOC=f"feature f owns {name}_thr[{name}_off[f] .. {name}_off[f + 1] - 1]",
        EXTRA_TABLES="",
        PREP=render("qtree_prep_bins.c.tmpl", **subs),
        STATE_DECL=f"    {bin_t} vec[{up}_N_FEATURES];\n",
        PREP_CALL=f"{name}_prep(x, vec)",
        LEAF_CALL=f"{name}_leaf({rom_read(root_t, f'{name}_root', 't')}, vec)",
        WALK_SPECS=[dict(
            FN=f"{name}_leaf", LEAF_PARAMS=f"const {bin_t} *vec",
            WALK_DOC="The leaf that a tree whose root code is v sends the binned input to.",
            NODE_TEST=(f"            const uint32_t b = vec[{up}_FEAT(w)];\n"
                       f"            const int go = b <= {up}_BIN(w){nanl};"))],
    )


def _scan(ir: QuantizedTreeIR, name: str) -> dict[str, str]:
    """The input check's pass over x. On ARM and AVR (up to UNROLL_SCAN features) the speed
    layout's unrolled scan: a load-multiple and a carry per value on Thumb-2, the FPU sum on an
    M4F, an OR of exponent tests per value on a Cortex-M0+, the exponent bytes on AVR. Elsewhere
    (hosts, where flash matters more than the few cycles) the runtime's tcg_scan loop."""
    if not 0 < ir.meta.n_features <= UNROLL_SCAN:
        return dict(SCAN="", SCAN_FN="tcg_scan")
    code = speed_scan(name, ir.meta.n_features)
    up = name.upper()
    return dict(SCAN=f"#if defined(__arm__) || defined(__AVR__){code}"
                f"#define {up}_SCAN {name}_scan\n#else\n#define {up}_SCAN tcg_scan\n#endif\n",
                SCAN_FN=f"{up}_SCAN")


def keys_prep(ir: QuantizedTreeIR, name: str, key_doc: str) -> str:
    """The lazy strategies' input check (no binning pass)."""
    route = ir.meta.nan_policy == "route"
    nan_case = "return 2; /* NaN: routed by the splits */" if route else (
        "return 0; /* NaN: rejected, as sklearn rejects it */")
    return render("qtree_prep_keys.c.tmpl", NAME=name, UNAME=name.upper(), NAN_CASE=nan_case,
                  KEY_DOC=key_doc, NAN_REJECT_DOC="" if route else ", or NaN",
                  **_scan(ir, name))


def keys_parts(ir: QuantizedTreeIR, name: str, p: NodePacking,
               root_t: str) -> dict[str, object]:
    up = name.upper()
    keys = threshold_keys(ir.thresholds)
    raw = bool((keys >= 0x80000000).all())  # every threshold >= +0: compare raw bits as int32
    if raw:
        vals = [str(int(v) - 0x80000000) for v in keys]  # the float's own bits, as int32
        tables = c_array("int32_t", f"{name}_thr", vals, per_line=8, rom=True)
        get = f"            const int32_t b = tcg_f32_ibits(x[{up}_FEAT(w)]);\n"
        test = f"b <= {rom_read('int32_t', f'{name}_thr', f'{up}_BIN(w)')}"
        is_nan = "((uint32_t)b & 0x7fffffffu) > 0x7f800000u"
        key_doc = ("every threshold is >= +0, so the raw bits compare as int32: a negative x, "
                   "-0.0 included, is below all of them")
    else:
        tables = c_array("uint32_t", f"{name}_thr", [f"0x{int(v):08x}u" for v in keys], 8,
                         rom=True)
        get = f"            const uint32_t b = tcg_f32_bits(x[{up}_FEAT(w)]);\n"
        test = f"tcg_f32_key(b) <= {rom_read('uint32_t', f'{name}_thr', f'{up}_BIN(w)')}"
        is_nan = "(b & 0x7fffffffu) > 0x7f800000u"
        key_doc = "both as tcg_f32_key"
    route = ir.meta.nan_policy == "route"
    extra = ""
    walks = [dict(FN=f"{name}_leaf", LEAF_PARAMS="const float *x",
                  WALK_DOC="The leaf that a tree whose root code is v sends x to (no NaN in x).",
                  NODE_TEST=f"{get}            const int go = {test};")]
    root = rom_read(root_t, f"{name}_root", "t")
    call = f"{name}_leaf({root}, x)"
    if route:  # a second walk, used only when x holds a NaN
        bits = nan_left_bits(ir)
        go_nan = "0"
        if bits.any():
            packed = np.packbits(bits.astype(np.uint8), bitorder="little")
            extra = "/* bit i: NaN goes left at split i */\n" + c_array(
                "uint8_t", f"{name}_nanl", [f"0x{b:02x}u" for b in packed], per_line=16,
                rom=True)
            i = f"(uint32_t)(w - {name}_node)" + (f" / {p.words}u" if p.words > 1 else "")
            byte = rom_read("uint8_t", f"{name}_nanl", f"{i} >> 3")
            go_nan = f"((uint32_t){byte} >> ({i} & 7u)) & 1u"
        walks.append(dict(
            FN=f"{name}_leaf_nan", LEAF_PARAMS="const float *x", UNROLL=False,
            WALK_DOC="The same walk for an x that holds NaN: NaN goes where the split says.",
            NODE_TEST=(f"{get}            const int go = ({is_nan}) ? (int)({go_nan}) : {test};")))
        call = f"(st > 1 ? {name}_leaf_nan({root}, x) : {call})"
    return dict(
        THR_TABLES=tables,
        THR_DOC="a split holds the index of its threshold in this table",
        EXTRA_TABLES=extra,
        PREP=keys_prep(ir, name, key_doc),
        STATE_DECL="",
        PREP_CALL=f"{name}_prep(x)",
        LEAF_CALL=call,
        WALK_SPECS=walks,
    )
