"""C writer for VotingClassifier / StackingClassifier: every member is emitted by its own family
writer as ``NAME_m<i>.c/.h`` in the same CSource; ``NAME.c`` combines their outputs as sklearn
does (see :mod:`tinycodegen.families.hybrid.ir`)."""

from __future__ import annotations

from typing import Any

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, header, render, weakest
from tinycodegen.core.runtime import runtime_files
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.hybrid.ir import HybridIR
from tinycodegen.families.linear.emit import proba_body
from tinycodegen.families.registry import emit, native_backends

MODE_DOC = {"hard": "hard voting", "soft": "soft voting", "stack": "stacking"}
DECLS = """
/* Internal, for composite models: predict_proba in double, unrounded (zeros for rejected
 * input{no_proba}). */
void {name}_proba64(const float *x, double *out);
"""
STACK_DECLS = """
/* The final estimator's decision_function ({ns} values), correctly rounded scores rounded to
 * float; 0 for rejected input. */
void {name}_decision_function(const float *x, float *out);
void {name}_decision64(const float *x, double *out);
"""


def member_sources(ir: HybridIR, name: str,
                   layout: str = "table") -> tuple[dict[str, str], list[str], str]:
    """Files of every member (emitted as NAME_m<i>, in ``layout`` where its kind has it, else
    its table layout), their header names and the weakest of their guarantees."""
    files: dict[str, str] = {}
    headers = []
    guarantees = []
    for i, member in enumerate(ir.members):
        own = layout if layout in native_backends(member.kind) else "table"
        src = emit(member, f"{name}_m{i}", own)
        for fname, text in src.files.items():
            if fname in files and files[fname] != text:
                raise TinycodegenError(f"hybrid: members disagree on the content of {fname}")
            files[fname] = text
        headers.append(src.h_file)
        guarantees.append(src.guarantee)
    return files, headers, weakest(guarantees)


def plain_member(member: Any) -> bool:
    """The member rejects x exactly where the plain input check does (no transform)."""
    return getattr(member, "plain_input_check", False) and getattr(
        member, "transform", None) is None


def rejects(member: Any, prefix: str) -> list[tuple[str, str]]:
    """(C condition, header declaring it): one condition true when ``member`` (emitted as
    ``prefix``) rejects x. A CalibratedClassifierCV member is asked through its own members (or
    the plain input check): its predict would run the whole calibrated model to answer."""
    if not hasattr(member, "calibrators"):  # not a CalibratedClassifierCV
        return [(f"{prefix}_predict(x) < 0", f"{prefix}.h")]
    if all(plain_member(m) for m in member.members):
        nan_ok = 1 if member.meta.nan_policy == "route" else 0
        return [(f"!tcg_input_ok(x, {member.meta.n_features}, {nan_ok})", "tcg_input.h")]
    return [c for j, m in enumerate(member.members) for c in rejects(m, f"{prefix}_m{j}")]


def accept_body(ir: HybridIR, name: str) -> str:
    plain = all(plain_member(m) for m in ir.members)
    if plain:
        nan_ok = 1 if ir.meta.nan_policy == "route" else 0
        return f"    return tcg_input_ok(x, {ir.meta.n_features}, {nan_ok});\n"
    lines = [f"    if ({cond}) {{\n        return 0;\n    }}\n"
             for i, m in enumerate(ir.members) for cond, _ in rejects(m, f"{name}_m{i}")]
    if ir.mode == "stack" and ir.passthrough:  # the raw row reaches the final model
        lines.insert(0, f"    if (!tcg_input_ok(x, {ir.meta.n_features}, 0)) {{\n"
                        "        return 0;\n    }\n")
    return "".join(lines) + "    return 1;\n"


def hard_body(ir: HybridIR, name: str) -> tuple[str, str]:
    calls = "".join(f"    p[{i}] = {name}_m{i}_predict(x);\n" for i in range(len(ir)))
    tables = ""
    weight = "1.0"
    if ir.weights is not None:
        tables = c_array("double", f"{name}_wt", [c_double(v) for v in ir.weights], 4)
        weight = f"{name}_wt[m]"
    return tables, render("hybrid_vote.c.tmpl", NAME=name, UNAME=name.upper(),
                          N_MEMBERS=len(ir), CALL_PREDICTS=calls, WEIGHT=weight)


def soft_body(ir: HybridIR, name: str) -> tuple[str, str]:
    k = ir.meta.n_classes
    loop = f"    for (c = 0; c < {k}; ++c) {{\n        {{}}\n    }}\n"
    lines = []
    for i in range(len(ir)):
        w = "" if ir.weights is None else f" * {c_double(ir.weights[i])}"
        if i == 0:
            lines.append(f"    {name}_m0_proba64(x, avg);\n")
            if w:
                lines.append(loop.replace("{}", f"avg[c] = avg[c]{w};"))
        else:
            lines.append(f"    {name}_m{i}_proba64(x, p);\n")
            lines.append(loop.replace("{}", f"avg[c] = avg[c] + p[c]{w};"))
    if len(ir) == 1:
        lines.append("    (void)p;\n")
    scl = c_double(float(len(ir)) if ir.weights is None else ir.weight_sum)
    doc = "the member count" if ir.weights is None else "numpy's sum of the weights"
    return "", render("hybrid_soft.c.tmpl", NAME=name, UNAME=name.upper(), SUM_BODY="".join(lines),
                      SCL=scl, SCL_DOC=doc)


def stack_body(ir: HybridIR, name: str) -> tuple[str, str]:
    fin = ir.final
    assert fin is not None
    k, nm, ns = ir.meta.n_classes, ir.meta_width, fin.n_scores
    body = [f"    if (!{name}_accept(x)) {{\n        return 0;\n    }}\n"]
    doc, o = [], 0
    for i, (meth, w) in enumerate(zip(ir.methods, ir.column_widths(), strict=True)):
        fn = f"{name}_m{i}"
        if meth == "predict_proba" and k == 2:
            body.append(f"    {{\n        double p[2];\n        {fn}_proba64(x, p);\n"
                        f"        f[{o}] = p[1];\n    }}\n")
        elif meth == "predict_proba":
            body.append(f"    {fn}_proba64(x, &f[{o}]);\n")
        elif meth == "decision_function":
            body.append(f"    {fn}_decision64(x, &f[{o}]);\n")
        else:
            body.append(f"    f[{o}] = (double){fn}_predict(x);\n")
        doc.append(f"member {i} {meth} ({w})")
        o += w
    if ir.passthrough:
        nf = ir.meta.n_features
        body.append(f"    {{\n        int32_t j;\n        for (j = 0; j < {nf}; ++j) {{\n"
                    f"            f[{o} + j] = (double)x[j];\n        }}\n    }}\n")
        doc.append(f"the {nf} inputs")
    tables = c_array("double", f"{name}_w", [c_double(v) for v in fin.coef.ravel()], 4)
    tables += c_array("double", f"{name}_b", [c_double(v) for v in fin.intercept], 4)
    rule = ("return m[0] > 0.0 ? 1 : 0;" if fin.binary
            else f"return tcg_argmax_f64(m, {ns});")
    proba = proba_body(fin, name, evaluate=f"{name}_scores", n_classes=k)
    return tables, render("hybrid_stack.c.tmpl", NAME=name, FEATURE_DOC=", ".join(doc),
                          FEATURE_BODY="".join(body), N_META=nm, N_SCORES=ns, RULE=rule,
                          PROBA_BODY=proba)


def runtime_for(ir: HybridIR) -> tuple[str, ...]:
    names = ["tcg_input.h", "tcg_vote.h"]
    if ir.mode == "stack":
        assert ir.final is not None
        names.append("tcg_eft.h")
        if ir.final.proba != "none":
            names += ["tcg_proba.h", "tcg_expit.h"]
    return tuple(names)


def doc_for(ir: HybridIR) -> str:
    kinds = ", ".join(f"m{i}: {m.meta.estimator}" for i, m in enumerate(ir.members))
    return (f" * {MODE_DOC[ir.mode]} over {len(ir)} members ({kinds}), combined exactly as\n"
            " * sklearn does (see tinycodegen.ir.hybrid for what is exact where).")


def emit_hybrid(ir: HybridIR, name: str) -> CSource:
    files, member_headers, guarantee = member_sources(ir, name)
    if ir.mode == "stack":  # the final linear model's scores: as a linear model's
        guarantee = weakest((guarantee, "band"))
    builder = {"hard": hard_body, "soft": soft_body, "stack": stack_body}[ir.mode]
    tables, body = builder(ir, name)
    runtime = runtime_for(ir)
    nested = [h for i, m in enumerate(ir.members) for _, h in rejects(m, f"{name}_m{i}")]
    heads = dict.fromkeys((*member_headers, *nested, *runtime))  # in order, once each
    includes = "".join(f'#include "{h}"\n' for h in heads)
    accept = ""
    if ir.mode != "hard":
        accept = render("hybrid_accept.c.tmpl", NAME=name, ACCEPT_BODY=accept_body(ir, name))
    c_text = render("hybrid.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
                    ESTIMATOR=ir.meta.estimator, MODE_DOC=MODE_DOC[ir.mode], N_MEMBERS=len(ir),
                    INCLUDES=includes, N_CLASSES=ir.meta.n_classes, TABLES=tables, ACCEPT=accept,
                    BODY=body)
    no_proba = "; zeros: sklearn has no predict_proba for hard voting" if ir.mode == "hard" else ""
    decls = DECLS.format(name=name, no_proba=no_proba)
    extra: tuple[str, ...] = ()
    if ir.mode == "stack":
        assert ir.final is not None
        decls += STACK_DECLS.format(name=name, ns=ir.final.n_scores)
        extra = (f"decision_function:{ir.final.n_scores}",)
    files[f"{name}.h"] = header(ir.meta, name, "table", guarantee=guarantee, decls=decls,
                                doc=doc_for(ir))
    files[f"{name}.c"] = c_text
    for fname, text in runtime_files(runtime).items():
        files.setdefault(fname, text)
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", extra_functions=extra,
                   guarantee=guarantee)
