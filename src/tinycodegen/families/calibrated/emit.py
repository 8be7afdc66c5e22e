"""C writer for CalibratedClassifierCV: every fitted classifier is emitted by its own family
writer as ``NAME_m<i>.c/.h``; ``NAME.c`` calibrates, normalises and averages their outputs as
sklearn does (see :mod:`tinycodegen.families.calibrated.ir`)."""

from __future__ import annotations

from tinycodegen._version import __version__
from tinycodegen.core.csource import (
    CSource,
    c_array,
    c_double,
    c_float,
    header,
    render,
    weakest,
)
from tinycodegen.core.members import decision_width
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import transform_code
from tinycodegen.families.calibrated.ir import CLIP_TOP, CalibratedIR, Calibrator
from tinycodegen.families.hybrid.emit import member_sources, rejects

RUNTIME = ("tcg_input.h", "tcg_argmax.h", "tcg_calib.h", "tcg_proba.h", "tcg_preprocess.h")
DECLS = """
/* Internal, for composite models: predict_proba in double, unrounded (zeros for rejected
 * input). */
void {name}_proba64(const float *x, double *out);
"""


def accept_code(ir: CalibratedIR, name: str) -> tuple[str, str]:
    """(private transform copies, body of NAME_accept). A classifier behind a transform rejects
    exactly when its transform does (``NAME_input``): a private copy of that check costs far
    less than the classifier's predict (an SVC's kernels); others are asked by predict."""
    conds = [c for c, _ in rejects(ir, name)]
    if len(conds) == 1 and conds[0].startswith("!tcg_input_ok"):
        return "", f"    return {conds[0][1:]};\n"
    copies: dict[int, str] = {}  # id(transform) -> C function prefix (shared transforms once)
    code, conds, width = [], [], 0
    for i, m in enumerate(ir.members):
        t = getattr(m, "transform", None)
        if not getattr(m, "plain_input_check", False) or t is None:  # else: iff NAME_input
            conds += [c for c, _ in rejects(m, f"{name}_m{i}")]
            continue
        if id(t) not in copies:
            copies[id(t)] = f"{name}_t{len(copies)}"
            code.append(transform_code(t, copies[id(t)], ir.meta.n_features,
                                       with_lookups=False))
        conds.append(f"!{copies[id(t)]}_input(x, z)")
        width = max(width, t.n_outputs)
    body = "".join(f"    if ({c}) {{\n        return 0;\n    }}\n" for c in conds)
    if width:
        body = f"    double z[{width}];\n" + body
    return "".join(code), body + "    return 1;\n"


def calibrator_code(cal: Calibrator, arg: str, table: str) -> tuple[str, str]:
    """(tables, C expression) of one calibrator applied to ``arg``."""
    if not cal.isotonic:
        return "", f"tcg_calib_sigmoid({arg}, {c_double(cal.a)}, {c_double(cal.b)})"
    assert cal.x is not None and cal.y is not None
    if cal.f32:
        tables = c_array("float", f"{table}_x", [c_float(v) for v in cal.x], 6)
        tables += c_array("float", f"{table}_y", [c_float(v) for v in cal.y], 6)
        return tables, f"(double)tcg_calib_interp32({arg}, {table}_x, {table}_y, {len(cal.x)})"
    tables = c_array("double", f"{table}_x", [c_double(v) for v in cal.x], 4)
    tables += c_array("double", f"{table}_y", [c_double(v) for v in cal.y], 4)
    return tables, f"tcg_calib_interp({arg}, {table}_x, {table}_y, {len(cal.x)})"


def member_func(ir: CalibratedIR, i: int, name: str) -> tuple[str, str]:
    """(tables, function) computing classifier i's calibrated probabilities."""
    k = ir.meta.n_classes
    member = ir.members[i]
    resp = ir.responses[i]
    if resp == "predict_proba":
        call, width = "proba64", k
    else:
        call, width = "decision64", decision_width(member)
    tables, lines = [], []
    for c, cal in enumerate(ir.calibrators[i]):
        col = ir.column(i) if k == 2 else c
        t, expr = calibrator_code(cal, f"v[{col}]", f"{name}_c{i}_{c}")
        tables.append(t)
        lines.append(f"    p[{1 if k == 2 else c}] = {expr};\n")
    if k == 2:
        lines.append("    p[0] = 1.0 - p[1];\n")
    else:
        lines.append(f"    tcg_normalize(p, {k});\n")
    func = (f"\n/* classifier {i}: its {resp}, calibrated ({ir.method}) */\n"
            f"static void {name}_cal{i}(const float *x, double *p)\n{{\n"
            f"    double v[{width}];\n    {name}_m{i}_{call}(x, v);\n" + "".join(lines)
            + f"    tcg_calib_clip(p, {k}, {c_double(CLIP_TOP)});\n}}\n")
    return "".join(tables), func


def sum_body(ir: CalibratedIR, name: str) -> str:
    lines = [f"    {name}_cal0(x, avg);\n"]
    for i in range(1, len(ir)):
        lines.append(f"    {name}_cal{i}(x, p);\n    for (c = 0; c < {ir.meta.n_classes}; ++c) "
                     "{\n        avg[c] = avg[c] + p[c];\n    }\n")
    if len(ir) == 1:
        lines.append("    (void)p;\n")
    return "".join(lines)


def guarantee_notes(ir: CalibratedIR) -> tuple[str, tuple[str, ...]]:
    if ir.exact and ir.method == "isotonic":
        return "exact", ("isotonic calibration replays sklearn's interpolation exactly",)
    if ir.exact:
        return "exact", (
            "calibration replays sklearn in double with exp from the C library; another libm "
            "can differ from this host's in rare last bits of exp",)
    return "band", (
        "a linear or MLP classifier's outputs are within a proven band of sklearn's BLAS "
        "values; rows whose calibrated arg-max lies inside it are counted as fallback rows",)


def emit_calibrated(ir: CalibratedIR, name: str) -> CSource:
    files, member_headers, member_guarantee = member_sources(ir, name)  # type: ignore[arg-type]
    tables, funcs = [], []
    for i in range(len(ir)):
        t, f = member_func(ir, i, name)
        tables.append(t)
        funcs.append(f)
    nested = [h for _, h in rejects(ir, name)]
    heads = dict.fromkeys((*member_headers, *nested, *RUNTIME))  # in order, once each
    includes = "".join(f'#include "{h}"\n' for h in heads)
    checks, accept = accept_code(ir, name)
    c_text = render("calibrated.c.tmpl", NAME=name, UNAME=name.upper(), VERSION=__version__,
                    METHOD=ir.method, N_MEMBERS=len(ir), INCLUDES=includes,
                    N_CLASSES=ir.meta.n_classes, TABLES="".join(tables) + checks,
                    ACCEPT_BODY=accept, MEMBER_FUNCS="".join(funcs),
                    SUM_BODY=sum_body(ir, name))
    # Only fixed words here: estimator names can carry user strings (Pipeline step names).
    kinds = ", ".join(f"m{i}: {m.kind} {r}" for i, (m, r)
                      in enumerate(zip(ir.members, ir.responses, strict=True)))
    doc = (f" * CalibratedClassifierCV(method={ir.method}) over {len(ir)} classifier(s) ({kinds}),"
           "\n * calibrated, normalised and averaged as sklearn does (tinycodegen.ir.calibrated).")
    guarantee, notes = guarantee_notes(ir)
    guarantee = weakest((guarantee, member_guarantee))  # e.g. an SVC on an unknown BLAS: band
    files[f"{name}.h"] = header(ir.meta, name, "table", guarantee=guarantee,
                                decls=DECLS.format(name=name), doc=doc)
    files[f"{name}.c"] = c_text
    for fname, text in runtime_files(RUNTIME).items():
        files.setdefault(fname, text)
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", notes=notes,
                   guarantee=guarantee)
