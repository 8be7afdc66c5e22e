"""C writer for kernel SVMs (SVC, NuSVC): float fast path (rbf) with a proven bound, exact path
replaying libsvm's double arithmetic operation for operation."""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, c_float, header, int_type, render
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls
from tinycodegen.families.svm.bounds import ROW_LIMIT, FastConstants
from tinycodegen.families.svm.ir import SVCIR

RUNTIME = ("tcg_input.h", "tcg_svm.h")
# ddot order (svm_exact.DOT_ORDERS) -> its replay in tcg_ddot.h
DDOT = {"openblas_prescott": "tcg_ddot_sse2", "openblas_nehalem": "tcg_ddot_nhm",
        "openblas_sandybridge": "tcg_ddot_snb", "openblas_haswell": "tcg_ddot_hsw",
        "openblas_skylakex": "tcg_ddot_skx", "openblas_armv8": "tcg_ddot_armv8",
        "openblas_neoversen1": "tcg_ddot_neon", "sequential": "tcg_ddot_seq"}
DECLS = """
/* sklearn's decision_function ({dw} values: {dw_doc}), libsvm's double values rounded to
 * float; 0 for rejected input. */
void {name}_decision_function(const float *x, float *out);

/* Internal, for composite models: predict_proba ({nc} values; zeros without probability=True
 * or for rejected input) and decision_function ({dw} values) in double, unrounded. */
void {name}_proba64(const float *x, double *out);
void {name}_decision64(const float *x, double *out);
"""


def _sv_source(ir: SVCIR, name: str) -> tuple[str, str]:
    """(table code, C expression of SV i's element j as double)."""
    if ir.sv_exact_f32:
        vals = [c_float(v) for v in ir.sv.ravel()]
        return (c_array("float", f"{name}_sv32", vals, 6),
                f"(double){name}_sv32[i * {name.upper()}_NZ + j]")
    code = c_array("double", f"{name}_sv64", [c_double(v) for v in ir.sv.ravel()], 4)
    if ir.fast is not None:
        code += c_array("float", f"{name}_sv32", [c_float(v) for v in ir.fast.sv32.ravel()], 6)
    return code, f"{name}_sv64[i * {name.upper()}_NZ + j]"


def tables(ir: SVCIR, name: str) -> tuple[str, str]:
    k = ir.meta.n_classes
    code, sv_expr = _sv_source(ir, name)
    first, count = ir.start.tolist(), ir.n_support.tolist()
    it = int_type(0, max(ir.n_sv, 1), False)
    code += c_array(it, f"{name}_first", first, 16) + c_array(it, f"{name}_count", count, 16)
    pair = np.zeros((k, k), dtype=np.int64)
    for p, (i, j) in enumerate(ir.pairs):
        pair[i, j] = pair[j, i] = p
    code += c_array(int_type(0, max(ir.n_pairs, 1)), f"{name}_pair", pair.ravel().tolist(), 16)
    code += c_array("double", f"{name}_coef", [c_double(v) for v in ir.dual_coef.ravel()], 4)
    code += c_array("double", f"{name}_rho", [c_double(v) for v in ir.rho], 4)
    if ir.has_proba:
        assert ir.prob_a is not None and ir.prob_b is not None
        code += c_array("double", f"{name}_proba_a", [c_double(v) for v in ir.prob_a], 4)
        code += c_array("double", f"{name}_proba_b", [c_double(v) for v in ir.prob_b], 4)
    return code, sv_expr


def dot_call(ir: SVCIR, a: str, b: str, n: str) -> str:
    """C call of the ddot replay. dot_sse2.S's order depends on y's address: libsvm's rbf passes
    a malloc'd (16-byte aligned) difference, the other kernels SV i, a row of the aligned SV
    array: 8 bytes past a boundary when i * width is odd."""
    call = f"{DDOT[ir.dot_order]}({a}, {b}, {n}"
    if ir.dot_order == "openblas_prescott":
        return call + (", (i & 1))" if ir.kernel != "rbf" and ir.width % 2 else ", 0)")
    return call + ")"


def k64_body(ir: SVCIR, name: str, sv_expr: str) -> tuple[str, str]:
    up = name.upper()
    g, c0 = c_double(ir.gamma), c_double(ir.coef0)
    if ir.kernel == "rbf":
        body = (f"    double m[{up}_NZ];\n    int32_t j;\n    for (j = 0; j < {up}_NZ; ++j) {{\n"
                f"        m[j] = z[j] - {sv_expr};\n    }}\n"
                f"    return exp(-{g} * {dot_call(ir, 'm', 'm', f'{up}_NZ')});\n")
        return body, f"exp(-gamma * |z - sv|^2), |.|^2 by {ir.dot_order} ddot of z - sv"
    body = (f"    double s[{up}_NZ];\n    int32_t j;\n    for (j = 0; j < {up}_NZ; ++j) {{\n"
            f"        s[j] = {sv_expr};\n    }}\n")
    dot = dot_call(ir, "z", "s", f"{up}_NZ")
    expr = {"linear": dot, "poly": f"tcg_powi({g} * {dot} + {c0}, {ir.degree})",
            "sigmoid": f"tanh({g} * {dot} + {c0})"}[ir.kernel]
    doc = {"linear": "z . sv", "poly": f"powi(gamma z . sv + coef0, {ir.degree})",
           "sigmoid": "tanh(gamma z . sv + coef0)"}[ir.kernel]
    return body + f"    return {expr};\n", f"{doc}, dot products by {ir.dot_order} ddot"


def decide64(ir: SVCIR, name: str) -> tuple[str, str]:
    k = ir.meta.n_classes
    if ir.break_ties and ir.ovr and k > 2:
        return (f"    double o[{k}];\n    {name}_ovr64(dec, o);\n"
                f"    return tcg_argmax_f64(o, {k});\n",
                "break_ties: first arg-max of the ovr decision function")
    body = (f"    int32_t votes[{k}], i, j, p = 0, best = 0;\n"
            f"    for (i = 0; i < {k}; ++i) {{\n        votes[i] = 0;\n    }}\n"
            f"    for (i = 0; i < {k}; ++i) {{\n        for (j = i + 1; j < {k}; ++j) {{\n"
            f"            ++votes[dec[p] > 0 ? i : j];\n            ++p;\n        }}\n    }}\n"
            f"    for (i = 1; i < {k}; ++i) {{\n        if (votes[i] > votes[best]) {{\n"
            f"            best = i;\n        }}\n    }}\n    return best;\n")
    return body, "one-vs-one vote, pair (i, j) votes i when its value is > 0, first maximum"


def decision_body(ir: SVCIR, name: str) -> str:
    k = ir.meta.n_classes
    if k == 2:
        return "    (void)c;\n    out[0] = -dec[0];\n"
    if ir.ovr:
        return f"    (void)c;\n    {name}_ovr64(dec, out);\n"
    return f"    for (c = 0; c < {ir.n_pairs}; ++c) {{\n        out[c] = dec[c];\n    }}\n"


def proba_body(ir: SVCIR, name: str) -> str:
    k = ir.meta.n_classes
    up = name.upper()
    zero = f"        for (i = 0; i < {k}; ++i) {{\n            out[i] = 0.0;\n        }}\n"
    if not ir.has_proba:
        return (f"    int32_t i;\n    (void)x;\n    for (i = 0; i < {k}; ++i) {{\n"
                "        out[i] = 0.0;\n    }\n")
    return (f"    double z[{up}_NZ], dec[{up}_NP], r[{k * k}], q[{k * k}], qp[{k}];\n"
            f"    int32_t i, j, p = 0;\n    if (!{name}_input(x, z)) {{\n{zero}        return;\n"
            f"    }}\n    {name}_dec64(z, dec);\n    for (i = 0; i < {k * k}; ++i) {{\n"
            f"        r[i] = 0.0;\n    }}\n"
            f"    for (i = 0; i < {k}; ++i) {{\n        for (j = i + 1; j < {k}; ++j) {{\n"
            f"            r[i * {k} + j] = tcg_svm_sigmoid(dec[p], {name}_proba_a[p], "
            f"{name}_proba_b[p]);\n"
            f"            r[j * {k} + i] = 1 - r[i * {k} + j];\n            ++p;\n        }}\n"
            f"    }}\n    tcg_svm_coupling({k}, r, out, q, qp);\n")


def fast_code(ir: SVCIR, name: str) -> tuple[str, str]:
    fc = ir.fast
    if fc is None:
        return "", ""
    up = name.upper()
    tabs = c_array("float", f"{name}_coef32", [c_float(v) for v in fc.coef32.ravel()], 6)
    tabs += c_array("float", f"{name}_rho32", [c_float(v) for v in fc.rho32], 6)
    tabs += c_array("float", f"{name}_cb", [c_float(v) for v in fc.cb], 6)
    tail = ""
    for r in range(ir.width % 4):
        tail += (f"            {{\n                const float d = zf[j + {r}] - s[j + {r}];\n"
                 f"                a{r} = a{r} + d * d;\n            }}\n")
    k = ir.meta.n_classes
    vote = (f"    c = 0;\n    for (o = 1; o < {k}; ++o) {{\n        if (votes[o] > votes[c]) {{\n"
            f"            c = o;\n        }}\n    }}\n")
    if ir.break_ties and ir.ovr and k > 2:
        vote += (f"    for (o = 0; o < {k}; ++o) {{\n"
                 f"        if (o != c && votes[o] == votes[c]) {{\n            return 0;\n"
                 f"        }}\n    }}\n")
    vote += "    *cls = c;\n    return 1;\n"
    code = render("svm_fast_rbf.c.tmpl", NAME=name, UNAME=up, FAST_TABLES=tabs,
                  ROW_TERMS=_row_terms(fc, up), TAIL=tail, G32=c_float(fc.g32),
                  CU=c_float(fc.cu), FAST_VOTE=vote)
    call = (f"    {{\n        int32_t cls;\n        if ({name}_fast(z, &cls)) {{\n"
            f"            return cls;\n        }}\n    }}\n")
    return code, call


def _row_terms(fc: FastConstants, up: str) -> str:
    if not fc.need_a:
        return f"    ca0 = {c_float(fc.ca0)};\n    ca1 = {c_float(fc.ca1)};\n"
    f = c_float
    return (
        f"    {{\n        float asum = 0.0f, a, c1r, c0r;\n"
        f"        for (j = 0; j < {up}_NZ; ++j) {{\n            asum = asum + fabsf(zf[j]);\n"
        f"        }}\n        a = {f(fc.au)} * asum + {f(fc.esv)};\n"
        f"        c1r = {f(fc.c1)} + a * {f(fc.c1a)};\n        c0r = {f(fc.ga)} * (a + a * a);\n"
        f"        if (!(104.0f * c1r + c0r <= {f(ROW_LIMIT)})) {{\n            return 0;\n"
        f"        }}\n        ca1 = {f(fc.k1)} * c1r;\n"
        f"        ca0 = {f(fc.k0)} + {f(fc.k0a)} * c0r;\n"
        f"    }}\n"
    )


def doc_for(ir: SVCIR) -> str:
    fast = (" * predict: a float fast path decides the vote when its proven error bound allows;\n"
            " * otherwise, and for decision_function / predict_proba, " if ir.fast is not None
            else " * ")
    if ir.dot_exact:
        dots = (" * arithmetic is replayed operation for operation: kernel dot products in the\n"
                f" * order of the BLAS ddot scikit-learn used when compiled ({ir.dot_order}; its\n"
                " * fused multiply-adds correctly rounded, see tcg_ddot.h), exp and tanh from\n"
                " * <math.h>. predict, decision_function and predict_proba then equal sklearn's\n"
                " * where the BLAS kernel and libm are those of the compiling host; elsewhere\n"
                " * only the libm results (exp, tanh) can differ, in their last bits.\n")
    else:
        dots = (" * arithmetic is replayed operation for operation, except the kernel dot\n"
                " * products: the compiling host's BLAS sums them in an order tinycodegen does\n"
                " * not replay, so they are summed in sequential order. NOT bit-exact:\n"
                " * guarantee \"band\", equal to sklearn's predict except inside sklearn's own\n"
                " * rounding band (rows whose decision values are that close to a tie may differ;\n"
                " * tinycodegen check counts them).\n")
    return (f" * {ir.meta.estimator}, {ir.kernel} kernel, {ir.n_sv} support vectors.\n{fast}"
            f"libsvm's double\n{dots} * Build with -ffp-contract=off.")


def emit_svc(ir: SVCIR, name: str) -> CSource:
    up, k = name.upper(), ir.meta.n_classes
    table_code, sv_expr = tables(ir, name)
    k64, kdoc = k64_body(ir, name, sv_expr)
    d64, ddoc = decide64(ir, name)
    fast, fast_call = fast_code(ir, name)
    need_ovr = k > 2 and (ir.ovr or ir.break_ties)
    runtime = tuple(dict.fromkeys(RUNTIME + TRANSFORM_RUNTIME + ("tcg_vote.h",)))
    c_text = render(
        "svm.c.tmpl", NAME=name, UNAME=up, VERSION=__version__, ESTIMATOR=ir.meta.estimator,
        KERNEL=ir.kernel, N_SV=ir.n_sv, N_CLASSES=k, N_PAIRS=ir.n_pairs, WIDTH=ir.width,
        INCLUDES="".join(f'#include "{h}"\n' for h in runtime),
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features),
        TABLES=table_code, KERNEL_DOC=kdoc, K64_BODY=k64,
        OVR_FUNC=render("svm_ovr.c.tmpl", NAME=name, UNAME=up) if need_ovr else "",
        DECIDE_DOC=ddoc, DECIDE64_BODY=d64, FAST=fast, FAST_CALL=fast_call,
        DEC_WIDTH=ir.decision_width, DECISION_BODY=decision_body(ir, name),
        PROBA_BODY=proba_body(ir, name),
    )
    dw = ir.decision_width
    dw_doc = ("sklearn's sign: > 0 favours class 1" if k == 2 else
              "ovr: votes plus scaled confidences" if ir.ovr else "one per pair (i, j), i < j")
    decls = DECLS.format(name=name, nc=k, dw=dw, dw_doc=dw_doc)
    decls += transform_decls(ir.transform, name)
    guarantee = "exact" if ir.dot_exact else "band"
    files = {f"{name}.h": header(ir.meta, name, "table", guarantee=guarantee, decls=decls,
                                 doc=doc_for(ir)),
             f"{name}.c": c_text}
    files.update(runtime_files(runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features, n_classes=k,
                   backend="table", extra_functions=(f"decision_function:{dw}",),
                   guarantee=guarantee)
