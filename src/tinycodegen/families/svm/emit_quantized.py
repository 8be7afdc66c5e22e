"""Data-table backend for quantized RBF SVMs ("qsvm", see ``ir/qsvm.py``).

The input codes are written by the quantized linear models' writer (``emit_qnet._Writer``:
numeric codes, one-hot positions, code tables). One-hot blocks are not expanded: each support
vector's distance to the all-low block is a table entry and the active column adds
``w (hi - lo) (hi + lo - 2 s)``, the same integer as the full sum.
"""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_float, header, int_type, render
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import lookups, transform_decls, transform_doc
from tinycodegen.families.mlp import qnet_ops as ops
from tinycodegen.families.mlp.emit_qnet import _Writer as InputWriter
from tinycodegen.families.svm.qir import QSVMIR

RUNTIME = ("tcg_qnet.h", "tcg_qsvm.h", "tcg_preprocess.h")
TYPES = {  # mode -> (code, coefficient, distance, coefficient * kernel product)
    "int8": ("uint8_t", "int16_t", "int32_t", "int32_t"),
    "int16": ("uint16_t", "int32_t", "int64_t", "int64_t"),
}


def _ints(values: np.ndarray) -> list[str]:
    return [str(int(v)) for v in np.asarray(values).ravel()]


def _i64(v: int) -> str:
    return f"INT64_C({int(v)})"


def _wide_type(values: np.ndarray) -> str:
    return "int32_t" if int(np.abs(values).max(initial=0)) < 2**31 else "int64_t"


class _SvmWriter:
    def __init__(self, ir: QSVMIR, name: str) -> None:
        self.ir, self.name = ir, name
        self.inp = InputWriter(ir, name)  # type: ignore[arg-type]  # same input fields as qnet
        self.u_t, self.c_t, self.d_t, self.p_t = TYPES[ir.mode]
        self.tables: list[str] = []
        self.n_compact = 0

    def compact(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
        """Per SV, the position of its high column in a one-hot block (-1: none), when every
        SV's block codes are the block's low codes but at most one high."""
        s = self.ir.sv[:, cols]
        is_hi = (s == hi[None, :]) & (hi != lo)[None, :]
        if not ((s == lo[None, :]) | is_hi).all() or (is_hi.sum(axis=1) > 1).any():
            return None
        return np.where(is_hi.any(axis=1), np.argmax(is_hi, axis=1), -1)

    def sv_tables(self) -> tuple[str, str, str, int]:
        """(tables, distance start expression, gather code, SV row width)."""
        ir, name, w = self.ir, self.name, self.inp
        nu = len(w.dense)
        base = np.zeros(ir.n_sv, dtype=np.int64)
        gather, off, keep, spos = [], nu, [w.dense], []
        for g, (j, cat, _, lohi) in enumerate(w.gathers):
            cols = cat.dst
            lo, hi = lohi[0], lohi[1]
            wc = ir.wdist[cols]
            pos = self.compact(cols, lo, hi)
            if pos is not None:  # the block of each SV is stored as its high position
                wide = wc * (hi - lo) ** 2
                base += np.where(pos >= 0, wide[np.maximum(pos, 0)], 0)
                gather.append(render("qsvm_onehot.c.tmpl", G=g, H=len(spos), NAME=name,
                                     UNAME=name.upper(), D_T=self.d_t,
                                     W=w.values(wide, _wide_type(wide), f"c{j}_w2", str,
                                              f"pos[{g}]")))
                spos.append(pos)
                continue
            base += ((lo[None, :] - ir.sv[:, cols]) ** 2 * wc[None, :]).sum(axis=1)
            scale = w.values(wc * (hi - lo), "int32_t", f"c{j}_sc", str, f"pos[{g}]")
            total = w.values(hi + lo, "int32_t", f"c{j}_hl", str, f"pos[{g}]")
            gather.append(render("qsvm_gather.c.tmpl", G=g, OFF=off, D_T=self.d_t, SCALE=scale,
                                 SUM=total))
            keep.append(cols)
            off += len(cols)
        self.n_compact = len(spos)
        sv = ir.sv[:, np.concatenate(keep).astype(np.int64)]
        if not sv.shape[1]:  # every input in one-hot positions: a placeholder column
            sv = np.zeros((ir.n_sv, 1), dtype=np.int64)
        tabs = [c_array(self.u_t, f"{name}_sv", _ints(sv), 24)]
        if spos:
            sp = np.stack(spos, axis=1)
            tabs.append(c_array(int_type(-1, int(sp.max()), unsigned_ok=False), f"{name}_spos",
                                _ints(sp), 24))
        start = "0"
        if base.any():
            if base.max() < 2**31:
                tabs.append(c_array(int_type(0, int(base.max()), unsigned_ok=False),
                                    f"{name}_base", _ints(base), 12))
            else:
                tabs.append(c_array("int64_t", f"{name}_base", [_i64(v) for v in base], 4))
            start = f"{name}_base[k]"
        k = ir.meta.n_classes
        st = np.concatenate([ir.start, [ir.n_sv]])
        tabs.append(c_array("int32_t", f"{name}_start", _ints(st), 12))
        pair = np.zeros((k, k), dtype=np.int64)
        for p, (a, b) in enumerate(ir.pairs):
            pair[a, b] = pair[b, a] = p
        tabs.append(c_array(int_type(0, max(len(ir.pairs) - 1, 0)), f"{name}_pair",
                            _ints(pair), 16))
        tabs.append(c_array("uint16_t", f"{name}_exp",
                            [f"{int(v)}u" for v in ops.exp_table()], 12, rom=True))
        tabs.append(c_array(self.c_t, f"{name}_coef", _ints(ir.coef), 12))
        tabs.append(c_array("int64_t", f"{name}_rho", [_i64(v) for v in ir.rho], 4))
        return "".join(tabs), start, "".join(gather), sv.shape[1]

    def proba(self) -> str:
        ir, name = self.ir, self.name
        pl = ir.platt
        if pl is None:
            return render("qsvm_proba_none.c.tmpl", N_CLASSES=ir.meta.n_classes)
        self.tables.append(c_array("uint16_t", f"{name}_sig",
                                   [f"{int(v)}u" for v in ops.sigmoid_table()], 12, rom=True))
        return render("qsvm_proba_platt.c.tmpl", NAME=name, UNAME=name.upper(),
                      SIGN="" if pl.sign > 0 else "-", CLAMP=_i64(pl.clamp),
                      MULT=_i64(pl.mult), SHIFT=pl.shift, BIAS=_i64(pl.bias))

    def wd_expr(self) -> str:
        w = self.inp
        wd = self.ir.wdist[w.order][: len(w.dense)]
        if not len(wd) or (wd == 1).all():
            return ""
        return " * " + w.values(wd, "uint8_t", "wd", str)


def shape_of(ir: QSVMIR) -> str:
    if ir.linear:
        return f"linear-kernel SVM over {ir.inp.n_inputs} inputs"
    return f"RBF SVM, {ir.n_sv} support vectors over {ir.inp.n_inputs} inputs"


def decision(wr: _SvmWriter) -> tuple[str, str, dict[str, object]]:
    """(tables, the qdecision function, sizes for the main template)."""
    ir, name, up = wr.ir, wr.name, wr.name.upper()
    if ir.linear:
        w, b, gather = wr.inp.first_layer()
        w_t = "int8_t" if ir.mode == "int8" else "int16_t"
        tabs = (c_array(w_t, f"{name}_w0", _ints(w), 16)
                + c_array(wr.d_t, f"{name}_b0", [_i64(v) for v in b] if wr.d_t == "int64_t"
                          else _ints(b), 8))
        func = render("qsvm_linear.c.tmpl", NAME=name, UNAME=up, U_T=wr.u_t, W_T=w_t,
                      ACC_T=wr.d_t, N_INPUTS=ir.inp.n_inputs, GATHER=gather)
        return tabs, func, {"SV_WIDTH": 1, "N_COMPACT": 1}
    sv_tabs, base, gather, width = wr.sv_tables()
    func = render("qsvm_rbf.c.tmpl", NAME=name, UNAME=up, U_T=wr.u_t, D_T=wr.d_t, BASE=base,
                  WD=wr.wd_expr(), GATHER=gather, K_CLAMP=_i64(ir.k_clamp),
                  K_MULT=_i64(ir.k_mult), K_SHIFT=ir.k_shift, P_T=wr.p_t,
                  N_CLASSES=ir.meta.n_classes)
    return sv_tabs, func, {"SV_WIDTH": max(width, 1),
                                     "N_COMPACT": max(wr.n_compact, 1)}


def emit_qsvm(ir: QSVMIR, name: str) -> CSource:
    wr = _SvmWriter(ir, name)
    codes = wr.inp.numeric() + wr.inp.categorical()
    tables, func, sizes = decision(wr)
    proba = wr.proba()
    up = name.upper()
    c_text = render(
        "qsvm.c.tmpl", NAME=name, UNAME=up, VERSION=__version__, ESTIMATOR=ir.meta.estimator,
        MODE=ir.mode, SHAPE=shape_of(ir), N_SV=ir.n_sv, N_CLASSES=ir.meta.n_classes,
        N_DENSE=len(wr.inp.dense), N_GATHER=len(wr.inp.gathers), N_PAIRS=len(ir.pairs),
        QMAX=ir.inp.qmax, INPUT_TABLES="".join(wr.inp.tables),
        SV_TABLES=tables + "".join(wr.tables),
        LOOKUPS=lookups(ir.transform, name) if ir.transform else "", U_T=wr.u_t,
        CODES_BODY=codes, DECISION=func, PROBA_BODY=proba, **sizes,
    )
    decls = "\n" + render("qsvm_decls.h.tmpl", NAME=name, UNAME=up, MODE=ir.mode,
                           NP=len(ir.pairs), SCALE=c_float(np.float32(ir.coef_scale)))
    decls += transform_decls(ir.transform, name)
    doc = (f" * Quantized {ir.mode} {shape_of(ir)}; input ranges from "
           f"{ir.stats.get('ranges')}.\n * Finite values outside those ranges are clamped to "
           "their ends (never rejected).\n * predict_proba: "
           + ("binary Platt sigmoid, [P, 65535 - P] / 65535." if ir.platt is not None else
              "zeros (the model has no Platt parameters)."))
    if ir.transform is not None:
        doc += "\n" + transform_doc(ir.transform)
    head = header(ir.meta, name, f"table, quantized {ir.mode}", guarantee="reference",
                  decls=decls, doc=doc)
    files = {f"{name}.h": head, f"{name}.c": c_text}
    files.update(runtime_files(RUNTIME))
    note = f"quantized {ir.mode}: {shape_of(ir)}, input ranges from {ir.stats.get('ranges')}"
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", notes=(note,),
                   guarantee="reference")
