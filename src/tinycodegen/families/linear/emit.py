"""C writer for linear classifiers: float fast path with a proven bound, exact double path."""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, c_float, header, render
from tinycodegen.core.numerics import AMAX
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls, transform_doc
from tinycodegen.families.linear.emit_fold import folded_tables, lanes_code
from tinycodegen.families.linear.ir import LinearIR, ProbaKind

BASE_RUNTIME = ("tcg_input.h", "tcg_eft.h", "tcg_fast32.h", "tcg_vote.h")
PROBA_DOC = {
    "none": "sklearn has no predict_proba for this model: the C predict_proba writes zeros.",
    "sigmoid": "predict_proba: [1 - p, p], p = 1 / (1 + exp(-score)) in double, as scipy's expit.",
    "softmax": "predict_proba: softmax of the scores in double (numpy's order), as sklearn.",
    "ovr": "predict_proba: expit of each score, normalized (one-vs-rest), as sklearn.",
    "ovr_nan": "predict_proba: expit of each score, normalized (one-vs-rest), as sklearn before "
               "1.8 (NaN where every expit is 0).",
    "mhuber": "predict_proba: (clip(score, -1, 1) + 1) / 2, normalized, as sklearn.",
}
INTERNAL_DECLS = """
/* Scores as sklearn's decision_function ({ns} per input), correctly rounded then rounded to
 * float; 0 for rejected input. */
void {name}_decision_function(const float *x, float *out);

/* Internal, for composite models: sklearn's predict_proba ({nc} values) and decision_function
 * ({ns} values) in double, unrounded; zeros for rejected input. */
void {name}_proba64(const float *x, double *out);
void {name}_decision64(const float *x, double *out);
"""


def runtime_for(ir: LinearIR) -> tuple[str, ...]:
    extra = ()
    if ir.proba == "mhuber":
        extra = ("tcg_proba.h",)
    elif ir.proba != "none":
        extra = ("tcg_proba.h", "tcg_expit.h")
    prep = TRANSFORM_RUNTIME if ir.transform is not None else ()
    return tuple(dict.fromkeys(BASE_RUNTIME + prep + extra))


def fast_code(ir: LinearIR, name: str) -> str:
    fb = ir.fast
    if fb is None:
        return ""
    ns = ir.n_scores
    if ir.binary:
        decide = ("    if (s[0] > bound[0]) {\n        return 1;\n    }\n"
                  "    if (s[0] < -bound[0]) {\n        return 0;\n    }\n    return -1;")
    else:
        decide = (f"    c = tcg_argmax_f32(s, {ns});\n"
                  f"    return tcg_sure_argmax_f32(s, bound, {ns}, c) ? c : -1;")
    up = name.upper()
    if ir.folded is not None:
        ff = ir.folded
        exact_w = (None if float_exact(ir.coef) and float_exact(ir.intercept)
                   else f"{name}_w[c * {up}_NZ + j]")  # the double table of tables_and_scores
        lanes = folded_tables(ff, name, exact_w) + lanes_code(
            name, "lanes", f"{up}_NS", ir.meta.n_features, f"{name}_wr", f"{name}_br", ff,
            exact_w)
        k, d = ff.k, ff.d
    else:
        lanes = lanes_code(name, "lanes", f"{up}_NS", ir.n_inputs, f"{name}_wf", f"{name}_bf")
        k, d = fb.k, fb.d
    return render("linear_fast.c.tmpl", NAME=name, UNAME=up, AMAX=c_float(AMAX), K=c_float(k),
                  D=c_float(d), DECIDE=decide, LANES=lanes)


def float_exact(a: np.ndarray) -> bool:
    """Every value is a float (sklearn fitted on float32 data keeps float32 weights)."""
    return bool((a.astype(np.float32).astype(np.float64) == a).all())


def tables_and_scores(ir: LinearIR, name: str) -> tuple[str, str]:
    """Weight tables and the body of NAME_scores. Weights that are all floats are stored once,
    as floats (the exact path widens them); otherwise as sklearn's doubles, plus their float
    roundings when the fast path needs them."""
    up = name.upper()
    floats = c_array("float", f"{name}_wf", [c_float(v) for v in ir.coef32.ravel()], 6)
    floats += c_array("float", f"{name}_bf", [c_float(v) for v in ir.intercept32], 6)
    head = f"    double part[2 * {up}_NZ + 1];\n    int32_t c;\n"
    if float_exact(ir.coef) and float_exact(ir.intercept):
        body = (f"    double part[2 * {up}_NZ + 1], w[{up}_NZ];\n    int32_t c, i;\n"
                f"    for (c = 0; c < {up}_NS; ++c) {{\n"
                f"        for (i = 0; i < {up}_NZ; ++i) {{\n"
                f"            w[i] = (double){name}_wf[c * {up}_NZ + i];\n        }}\n"
                f"        m[c] = tcg_dot_exact(w, 1, z, {up}_NZ, (double){name}_bf[c], part);\n"
                "    }\n")
        doc = "/* Coefficients and intercepts as sklearn holds them (all are floats). */\n"
        return doc + floats, body
    doubles = c_array("double", f"{name}_w", [c_double(v) for v in ir.coef.ravel()], 4)
    doubles += c_array("double", f"{name}_b", [c_double(v) for v in ir.intercept], 4)
    body = head + (f"    for (c = 0; c < {up}_NS; ++c) {{\n"
                   f"        m[c] = tcg_dot_exact(&{name}_w[c * {up}_NZ], 1, z, {up}_NZ, "
                   f"{name}_b[c], part);\n    }}\n")
    doc = "/* Coefficients and intercepts exactly as sklearn holds them (double)"
    if ir.fast is None or ir.folded is not None:  # the folded fast path has its own tables
        return doc + ". */\n" + doubles, body
    return doc + ", and rounded to float for the fast path. */\n" + doubles + floats, body


def predict_body(ir: LinearIR, name: str) -> str:
    up = name.upper()
    lines = [f"    double z[{up}_NZ], m[{up}_NS];"]
    fast = ir.fast is not None
    if fast and (ir.transform is None or ir.folded is not None):
        lines += [f"    const int32_t fast = {name}_fast(x);",
                  "    if (fast >= 0) {", "        return fast;", "    }"]
    lines += [f"    if (!{name}_input(x, z)) {{", "        return -1;", "    }"]
    if fast and ir.transform is not None and ir.folded is None:
        lines += [f"    {{\n        float zf[{up}_NZ];",
                  f"        if (tcg_narrow_f32(z, zf, {up}_NZ)) {{",
                  f"            const int32_t fast = {name}_fast(zf);",
                  "            if (fast >= 0) {", "                return fast;", "            }",
                  "        }", "    }"]
    lines += [f"    {name}_scores(z, m);", f"    return {name}_rule(m);"]
    return "\n".join(lines) + "\n"


def proba_call(kind: ProbaKind, n_scores: int, scores: str = "m", out: str = "out") -> str:
    """The ``tcg_proba.h`` call mapping the double scores to sklearn's predict_proba (every
    kind but "none")."""
    if kind == "sigmoid":
        return f"tcg_proba_sigmoid({scores}[0], {out});"
    return f"tcg_proba_{kind}({scores}, {n_scores}, {out});"


def proba_body(ir: LinearIR, name: str, evaluate: str = "", n_classes: int = 0) -> str:
    """Body of a double predict_proba over ``evaluate(x, m)`` (default ``NAME_eval``, which
    returns 0 for rejected input: zeros then)."""
    nc = n_classes or ir.meta.n_classes
    zero = f"        for (c = 0; c < {nc}; ++c) {{\n            out[c] = 0.0;\n        }}\n"
    if ir.proba == "none":
        return (f"    int32_t c;\n    (void)x;\n    for (c = 0; c < {nc}; ++c) {{\n"
                "        out[c] = 0.0;\n    }\n")
    call = proba_call(ir.proba, ir.n_scores)
    return (f"    double m[{ir.n_scores}];\n    int32_t c;\n"
            f"    if (!{evaluate or name + '_eval'}(x, m)) {{\n"
            f"{zero}        return;\n    }}\n    {call}\n")


def doc_for(ir: LinearIR) -> str:
    rule = "sign of one score" if ir.binary else f"first arg-max of {ir.n_scores} scores"
    fast = (" * predict decides in float when a proven bound on its rounding error allows, else\n"
            " * computes the scores correctly rounded in double." if ir.fast is not None else
            " * predict computes the scores correctly rounded in double (no float fast path: a\n"
            " * weight is not a normal float).")
    return (
        f" * Linear model, {rule}.\n{fast}\n"
        " * predict equals sklearn's for every input, except where a score is within sklearn's\n"
        " * own double rounding of the decision boundary (there sklearn's BLAS summation order\n"
        " * decides; this code returns the correctly rounded answer).\n"
        f" * {PROBA_DOC[ir.proba]}"
    )


def emit_linear(ir: LinearIR, name: str) -> CSource:
    up = name.upper()
    ns, nc = ir.n_scores, ir.meta.n_classes
    tables, scores = tables_and_scores(ir, name)
    rule = "return m[0] > 0.0 ? 1 : 0;" if ir.binary else f"return tcg_argmax_f64(m, {ns});"
    runtime = runtime_for(ir)
    includes = "".join(f'#include "{h}"\n' for h in runtime)
    c_text = render(
        "linear.c.tmpl",
        NAME=name,
        UNAME=up,
        VERSION=__version__,
        ESTIMATOR=ir.meta.estimator,
        N_SCORES=ns,
        N_INPUTS=ir.n_inputs,
        INCLUDES=includes,
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features),
        TABLES=tables,
        SCORES_BODY=scores,
        RULE=rule,
        RULE_DOC="class 1 when the score is > 0" if ir.binary else "first arg-max",
        FAST=fast_code(ir, name),
        PREDICT_BODY=predict_body(ir, name),
        PROBA_BODY=proba_body(ir, name),
    )
    decls = INTERNAL_DECLS.format(name=name, ns=ns, nc=nc) + transform_decls(ir.transform, name)
    doc = doc_for(ir) + ("\n" + transform_doc(ir.transform) if ir.transform is not None else "")
    files = {f"{name}.h": header(ir.meta, name, "table", guarantee="band", decls=decls,
                                 doc=doc),
             f"{name}.c": c_text}
    files.update(runtime_files(runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features, n_classes=nc,
                   backend="table", extra_functions=(f"decision_function:{ns}",),
                   guarantee="band")
