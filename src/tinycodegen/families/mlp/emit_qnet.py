"""Data-table backend for quantized linear models and MLPs ("qnet", see ``ir/qnet.py``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    ROM_READERS,
    CSource,
    c_array,
    c_float,
    header,
    int_type,
    render,
    rom_read,
)
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import indicator, lookups, transform_decls, transform_doc
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.qnet import HUBER, QCategorical, QNetIR

RUNTIME = ("tcg_qnet.h", "tcg_preprocess.h")
TYPES = {  # mode -> (input code, weight, accumulator, unsigned / signed activation)
    "int8": ("uint8_t", "int8_t", "int32_t", "uint8_t", "int8_t"),
    "int16": ("uint16_t", "int16_t", "int64_t", "uint16_t", "int16_t"),
}
PROBA_DOC = {
    "none": "sklearn has no predict_proba for this model: NAME_predict_proba writes zeros.",
    "sigmoid": "predict_proba: [65535 - P, P] / 65535, P a 16-bit sigmoid table of the logit.",
    "softmax": "predict_proba: E_k / sum E, E_k a 16-bit table of exp(logit_k - max logit).",
    "ovr": "predict_proba: P_k / sum P, P_k a 16-bit sigmoid table of each logit.",
    "mhuber": "predict_proba: (clip(score, -1, 1) + 1) / 2 on a 1/32767 grid, normalized.",
}


class _Writer:
    def __init__(self, ir: QNetIR, name: str) -> None:
        self.ir, self.name = ir, name
        self.u_t, self.w_t, self.acc_t, self.h_u, self.h_s = TYPES[ir.mode]
        self.tables: list[str] = []
        self.gathers: list[tuple[int, QCategorical, np.ndarray, np.ndarray]] = []
        q = ir.inp
        dense = np.ones(q.n_inputs, dtype=bool)
        for j, cat in enumerate(q.categorical):
            ind = indicator(self.valid_codes(cat).astype(np.float64)) if len(cat.dst) else None
            if ind is not None:
                pos, lo, hi = ind
                self.gathers.append((j, cat, pos.astype(np.int64), np.stack([lo, hi]).astype(
                    np.int64)))
                dense[cat.dst] = False
        self.dense = np.flatnonzero(dense)  # model inputs held in u[], in this order
        blocks = [cat.dst for _, cat, _, _ in self.gathers]
        self.order = np.concatenate([self.dense, *blocks]).astype(np.int64)
        self.slot = np.empty(q.n_inputs, dtype=np.int64)
        self.slot[self.dense] = np.arange(len(self.dense))

    @staticmethod
    def valid_codes(cat: QCategorical) -> np.ndarray:
        codes = cat.codes.copy()
        codes[cat.reject] = codes[np.flatnonzero(~cat.reject)[0]]  # never read
        return codes

    def index(self, values: np.ndarray, label: str) -> str:
        arr = np.asarray(values, dtype=np.int64)
        if len(arr) and np.array_equal(arr, arr[0] + np.arange(len(arr))):
            return "i" if arr[0] == 0 else f"{int(arr[0])} + i"
        return self.table(int_type(0, int(arr.max())), label, [str(int(v)) for v in arr], "i")

    def table(self, ctype: str, label: str, items: list[str], at: str) -> str:
        """A table (in TCG_ROM when its type has a reader) and the C reading item ``at``."""
        rom = ctype in ROM_READERS
        self.tables.append(c_array(ctype, f"{self.name}_{label}", items, 12, rom=rom))
        return rom_read(ctype, f"{self.name}_{label}", at) if rom else \
            f"{self.name}_{label}[{at}]"

    def values(self, vals: np.ndarray, ctype: str, label: str, lit: Callable[[int], str],
               at: str = "i") -> str:
        if len(vals) and (vals == vals[0]).all():
            return lit(int(vals[0]))
        return self.table(ctype, label, [lit(int(v)) for v in vals], at)

    def numeric(self) -> str:
        q = self.ir.inp
        if not len(q.num_src):
            return ""
        am = q.num_am | (q.num_sa << 31)
        cf_t = int_type(int(q.num_cf.min()), int(q.num_cf.max()), unsigned_ok=False) if abs(
            q.num_cf).max() < 2**31 else "int64_t"
        if q.code32:  # one word per input: am | (ea + 126) << 16 | sign << 31
            k = q.num_ea + 126
            if not ((k >= 0) & (k <= ops.CODE32_K_ZERO) & (q.num_am < 2**16)).all():
                raise AssertionError("code32 constants out of range")  # pragma: no cover
            consts = self.values(am | (k << 16), "uint32_t", "nak", lambda v: f"0x{v:08x}u")
        else:
            consts = ", ".join((self.values(am, "uint32_t", "nam", lambda v: f"0x{v:08x}u"),
                                self.values(q.num_ea, int_type(int(q.num_ea.min()), int(
                                    q.num_ea.max()), unsigned_ok=False), "nea", str)))
        tmpl = "qnet_numeric32.c.tmpl" if q.code32 else "qnet_numeric.c.tmpl"
        return render(tmpl, M=len(q.num_src), SRC=self.index(q.num_src, "nsrc"),
                      DST=self.index(self.slot[q.num_dst], "ndst"), U_T=self.u_t, CONSTS=consts,
                      CF=self.values(q.num_cf, cf_t, "ncf", str), QMAX=q.qmax)

    def reject(self, j: int, cat: QCategorical) -> str:
        rej = np.flatnonzero(cat.reject)
        if not len(rej):
            return ""
        if rej.tolist() == [0]:
            return " || c < 0"
        return " || " + self.table("uint8_t", f"c{j}_rej", [f"{int(r)}u" for r in cat.reject],
                                   "c + 1")

    def categorical(self) -> str:
        out = []
        gathered = {j: g for g, (j, _, _, _) in enumerate(self.gathers)}
        for j, cat in enumerate(self.ir.inp.categorical):
            subs = dict(NAME=self.name, INDEX=cat.index, K=cat.n_categories, J=j,
                        REJECT=self.reject(j, cat))
            if j in gathered:
                _, _, pos, _ = self.gathers[gathered[j]]
                w = len(cat.dst)
                at = self.table(int_type(-1, w - 1, unsigned_ok=False), f"c{j}_pos",
                                [str(int(p)) for p in pos], "c + 1")
                out.append(render("qnet_onehot.c.tmpl", **subs, G=gathered[j], POS=at))
                continue
            codes = self.valid_codes(cat)
            tab = self.table(self.u_t, f"c{j}_tab", [f"{int(v)}u" for v in codes.ravel()],
                             f"(c + 1) * {codes.shape[1]} + i")
            out.append(render("qnet_codetable.c.tmpl", **subs, W=codes.shape[1], TAB=tab,
                              DST=self.index(self.slot[cat.dst], f"c{j}_dst")))
        return "".join(out)

    def first_layer(self) -> tuple[np.ndarray, np.ndarray, str]:
        """Reordered first-layer weights, biases with the low codes folded in, gather code."""
        layer = self.ir.layers[0]
        w, b = layer.weight[:, self.order], layer.bias.copy()
        lines, off = [], len(self.dense)
        for g, (j, cat, _, lohi) in enumerate(self.gathers):
            b += layer.weight[:, cat.dst] @ lohi[0]
            diff = self.values(lohi[1] - lohi[0], "int32_t", f"c{j}_d", str, f"pos[{g}]")
            lines.append(render("qnet_gather.c.tmpl", G=g, OFF=off, DIFF=diff,
                                W_READ=ROM_READERS[self.w_t]))
            off += len(cat.dst)
        return w, b, "".join(lines)

    def act_type(self, act: str) -> str:
        return self.h_u if act in ("relu", "logistic") else self.h_s

    def layers(self) -> tuple[str, str, str]:
        ir, name = self.ir, self.name
        tabs, funcs = [], []
        ng = len(self.gathers)
        decls = [f"    {self.u_t} u[{max(len(self.dense), 1)}];",
                 f"    int32_t pos[{max(ng, 1)}];"]
        run = []
        in_t, src = self.u_t, "u, pos" if ng else "u"
        act = ir.hidden[0].act if ir.hidden else None
        if act in ("tanh", "logistic"):
            lut = ops.hidden_lut(act, ir.mode)
            tabs.append(f"/* hidden {act} on the requantized pre-activation */\n"
                        + c_array(self.act_type(act), f"{name}_lut",
                                  [str(int(v)) for v in lut], 16, rom=True))
        for li, layer in enumerate(ir.layers):
            last = layer.act == "out"
            w, b, gather = (self.first_layer() if li == 0 else (layer.weight, layer.bias, ""))
            if int(np.abs(b).max(initial=0)) >= ops.ACC_LIMIT[ir.mode]:
                raise AssertionError("folded bias outside the accumulator")  # pragma: no cover
            tabs.append(c_array(self.w_t, f"{name}_w{li}", [str(int(v)) for v in w.ravel()], 16,
                                rom=True))
            tabs.append(c_array(self.acc_t, f"{name}_b{li}", [str(int(v)) for v in b], 8))
            if last:
                store, out_t, dst = "out[o] = s;", self.acc_t, "out"
            else:
                tabs.append(c_array("int32_t", f"{name}_m{li}",
                                    [str(int(v)) for v in layer.mult], 8))
                tabs.append(c_array("uint8_t", f"{name}_s{li}",
                                    [f"{int(v)}u" for v in layer.shift], 16))
                if layer.pre is not None:
                    tabs.append(c_array("uint8_t", f"{name}_p{li}",
                                        [f"{int(v)}u" for v in layer.pre], 16))
                out_t, dst = self.act_type(layer.act), f"h{li}"
                store = self.store(li, layer.act, out_t, layer.pre is not None)
                decls.append(f"    {out_t} h{li}[{layer.n_out}];")
            funcs.append(render("qnet_layer.c.tmpl", NAME=name, L=li, N_OUT=layer.n_out,
                                N_IN=layer.n_in, N_DENSE=len(self.dense) if li == 0 else layer.n_in,
                                ACT="output logits" if last else layer.act, IN_T=in_t,
                                POS_PARAM="const int32_t *pos, " if li == 0 and ng else "",
                                OUT_T=out_t, W_T=self.w_t, ACC_T=self.acc_t, GATHER=gather,
                                W_READ=ROM_READERS[self.w_t],
                                STORE=store))
            run.append(f"    {name}_layer{li}({src}, {dst});")
            in_t, src = out_t, dst
        zero = (f"        for (k = 0; k < {name.upper()}_NS; ++k) {{\n"
                "            out[k] = 0;\n        }\n")
        body = ("\n".join(decls) + "\n    int32_t k;\n"
                f"    if (!{name}_codes(x, u, pos)) {{\n{zero}        return 0;\n    }}\n"
                + "\n".join(run) + "\n    (void)k;\n    return 1;\n")
        return "".join(tabs), "".join(funcs), body

    def store(self, li: int, act: str, out_t: str, rq32: bool) -> str:
        n = self.name
        rq, clamp = (f"tcg_q_requant(s, {n}_m{li}[o], {n}_s{li}[o])", "tcg_q_clamp")
        if rq32:
            rq, clamp = (f"tcg_q_requant32(s, {n}_m{li}[o], {n}_s{li}[o], {n}_p{li}[o])",
                         "tcg_q_clamp32")
        if act in ("relu", "identity"):
            lo, hi = ops.act_bounds(act, self.ir.mode)
            return f"out[o] = ({out_t}){clamp}({rq}, {lo}, {hi});"
        if self.ir.mode == "int8":
            lut = rom_read(out_t, f"{self.name}_lut", f"{clamp}({rq}, -128, 127) + 128")
            return f"out[o] = {lut};"
        fn = "tcg_q_interp_s16" if act == "tanh" else "tcg_q_interp_u16"
        return (f"out[o] = ({out_t}){fn}({self.name}_lut, 256, "
                f"(int64_t)tcg_q_clamp({rq}, -32768, 32768) + 32768);")

    def proba(self) -> str:
        ir, name = self.ir, self.name
        kind, pm, ps = ir.proba, ir.proba_mult, ir.proba_shift
        subs = dict(NAME=name, UNAME=name.upper(), ACC_T=self.acc_t)
        if kind == "none":
            return render("qnet_proba_none.c.tmpl", **subs)
        if kind in ("sigmoid", "ovr"):
            self.tables.append(c_array("uint16_t", f"{name}_sig",
                                       [f"{int(v)}u" for v in ops.sigmoid_table()], 12,
                                       rom=True))
        if kind == "softmax":
            self.tables.append(c_array("uint16_t", f"{name}_exp",
                                       [f"{int(v)}u" for v in ops.exp_table()], 12, rom=True))
        k = "0" if ir.binary else "k"
        rq = f"tcg_q_requant(acc[{k}], {pm}, {ps})"
        if kind in ("sigmoid", "ovr"):
            expr = f"tcg_q_sigmoid({name}_sig, {rq})"
        elif kind == "mhuber":
            expr = f"tcg_q_clamp({rq}, -{HUBER}, {HUBER}) + {HUBER}"
        else:
            d = f"tcg_q_requant((int64_t)acc[m] - (int64_t)acc[k], {pm}, {ps})"
            expr = f"tcg_q_interp_u16({name}_exp, 256, 65536 - (int64_t)tcg_q_clamp({d}, 0, 65536))"
        if ir.binary:
            top = 65535 if kind == "sigmoid" else 2 * HUBER
            return render("qnet_proba_binary.c.tmpl", **subs, EXPR=expr, TOP=top)
        prep = ""
        if kind == "softmax":
            fn = "tcg_argmax_i32" if self.acc_t == "int32_t" else "tcg_argmax_i64"
            prep = f"    const int32_t m = {fn}(acc, {name.upper()}_NS);\n"
        return render("qnet_proba_multi.c.tmpl", **subs, PREP=prep, EXPR=expr)


def shape_of(ir: QNetIR) -> str:
    widths = " -> ".join(str(v) for v in (ir.inp.n_inputs,) + tuple(q.n_out for q in ir.layers))
    kind = "linear model" if ir.source == "linear" else "MLP"
    act = f", hidden {ir.hidden[0].act}" if ir.hidden else ""
    return f"{kind} {widths}{act}"


def emit_qnet(ir: QNetIR, name: str) -> CSource:
    wr = _Writer(ir, name)
    codes = wr.numeric() + wr.categorical()
    layer_tabs, layer_funcs, run = wr.layers()
    proba = wr.proba()
    fn = "tcg_argmax_i32" if wr.acc_t == "int32_t" else "tcg_argmax_i64"
    rule = ("return acc[0] > 0 ? 1 : 0;" if ir.binary else
            f"return {fn}(acc, {name.upper()}_NS);")
    c_text = render(
        "qnet.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
        ESTIMATOR=ir.meta.estimator, MODE=ir.mode, SHAPE=shape_of(ir), N_INPUTS=ir.inp.n_inputs,
        N_SCORES=ir.n_outputs, QMAX=ir.inp.qmax, N_DENSE=len(wr.dense),
        N_GATHER=len(wr.gathers), INPUT_TABLES="".join(wr.tables),
        LAYER_TABLES=layer_tabs, LOOKUPS=lookups(ir.transform, name) if ir.transform else "",
        U_T=wr.u_t, CODES_BODY=codes, LAYER_FUNCS=layer_funcs, ACC_T=wr.acc_t, RUN_BODY=run,
        RULE=rule, PROBA_BODY=proba,
    )
    decls = "\n" + render("qnet_decls.h.tmpl", NAME=name, UNAME=name.upper(), MODE=ir.mode,
                           NS=ir.n_outputs, ACC_T=wr.acc_t,
                           SCALE=c_float(np.float32(ir.out_scale)))
    decls += transform_decls(ir.transform, name)
    hidden = f", hidden ranges from {ir.stats['hidden']}" if "hidden" in ir.stats else ""
    doc = (f" * Quantized {ir.mode} {shape_of(ir)}; input ranges from {ir.stats.get('ranges')}"
           f"{hidden}.\n * Finite values outside those ranges are clamped to their ends "
           "(never rejected).\n"
           f" * {PROBA_DOC[ir.proba].replace('NAME', 'this model')}")
    if ir.transform is not None:
        doc += "\n" + transform_doc(ir.transform)
    files = {f"{name}.h": header(ir.meta, name, f"table, quantized {ir.mode}",
                                 guarantee="reference", decls=decls, doc=doc),
             f"{name}.c": c_text}
    files.update(runtime_files(RUNTIME))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", notes=notes_for(ir),
                   extra_functions=(f"decision_function:{ir.n_outputs}",), guarantee="reference")


def notes_for(ir: QNetIR) -> tuple[str, ...]:
    n_w = sum(q.weight.size for q in ir.layers)
    hidden = f"; hidden ranges from {ir.stats['hidden']}" if "hidden" in ir.stats else ""
    return (f"quantized {ir.mode}: {shape_of(ir)}, {n_w} weights, input ranges from "
            f"{ir.stats.get('ranges')}{hidden}",)
