"""C writer for MLPClassifier: float fast path with a proven bound, exact double path."""

from __future__ import annotations

import numpy as np

from tinycodegen._version import __version__
from tinycodegen.core.csource import CSource, c_array, c_double, c_float, header, render
from tinycodegen.core.numerics import AMAX
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls, transform_doc
from tinycodegen.families.linear.emit_fold import folded_tables, lanes_code
from tinycodegen.families.mlp.ir import MLPIR

RUNTIME = ("tcg_input.h", "tcg_eft.h", "tcg_fast32.h", "tcg_act32.h", "tcg_vote.h",
           "tcg_proba.h", "tcg_expit.h")
ACT32 = {"relu": "tcg_relu_f32", "tanh": "tcg_tanh_f32", "logistic": "tcg_logistic_f32"}
ACT64 = {"relu": "tcg_relu64({})", "tanh": "tanh({})", "logistic": "tcg_expit({})",
         "identity": "{}"}
DECLS = """
/* Internal, for composite models: sklearn's predict_proba in double, unrounded; zeros for
 * rejected input. */
void {name}_proba64(const float *x, double *out);
"""


def float_layer(ir: MLPIR, li: int) -> bool:
    """The layer's weights and biases are all floats (sklearn fitted on float32 data keeps
    float32 weights): stored once, as floats, and widened by the exact path."""
    return all(bool((a.astype(np.float32).astype(np.float64) == a).all())
               for a in (ir.weights[li], ir.biases[li]))


def tables(ir: MLPIR, name: str) -> str:
    out = []
    for li, (w, b) in enumerate(zip(ir.weights, ir.biases, strict=True)):
        if not float_layer(ir, li):
            out.append(c_array("double", f"{name}_w{li}", [c_double(v) for v in w.ravel()], 4))
            out.append(c_array("double", f"{name}_b{li}", [c_double(v) for v in b], 4))
        if (ir.fast_ok and not (li == 0 and ir.folded is not None)) or float_layer(ir, li):
            out.append(c_array("float", f"{name}_wf{li}", [c_float(v) for v in w.ravel()], 6))
            out.append(c_array("float", f"{name}_bf{li}", [c_float(v) for v in b], 6))
    return "".join(out)


def consts(ir: MLPIR, name: str) -> str:
    up, bd = name.upper(), ir.bound
    lines = []
    for li in range(len(bd.alpha)):
        lines += [f"#define {up}_ALPHA{li} {c_float(bd.alpha[li])}",
                  f"#define {up}_BETA{li} {c_float(bd.beta[li])}",
                  f"#define {up}_NU{li} {c_float(bd.nu[li])}"]
    lines += [f"#define {up}_LAM {c_float(bd.lam)}", f"#define {up}_EPS {c_float(bd.eps)}",
              f"#define {up}_KOUT {c_float(bd.k_out)}", f"#define {up}_TINY {c_float(bd.tiny)}",
              f"#define {up}_T {c_float(bd.t_up)}", f"#define {up}_E0 {c_float(bd.e0)}",
              f"#define {up}_AMAX {c_float(AMAX)}"]
    arrays = "".join(c_array("float", f"{name}_{key}", [c_float(v) for v in vals], 6)
                     for key, vals in (("hc", bd.h_out), ("mu", bd.mu_out), ("bo", bd.b_out)))
    return "\n".join(lines) + "\n/* Output bound, per logit: K a + hc H + mu E + bo. */\n" + arrays


def layers(ir: MLPIR, name: str) -> str:
    w = ir.widths
    last = len(ir.weights) - 1
    first = 1 if ir.folded is not None else 0  # a folded layer 0 has its own code
    parts = [render("mlp_layer.c.tmpl", NAME=name, L=li, NI=w[li], NO=w[li + 1],
                    TAIL=layer_tail(name, li, w[li], w[li + 1])) for li in range(first, last)]
    parts.append(render("mlp_output.c.tmpl", NAME=name, L=last, NI=w[last], NO=w[last + 1]))
    return "".join(parts)


def layer_tail(name: str, li: int, ni: int, no: int) -> str:
    """Units past the last block of 4, one at a time (same summation order)."""
    if no % 4 == 0:
        return ""
    return (f"    for (j = {no - no % 4}; j < {no}; ++j) {{\n"
            f"        float acc = {name}_bf{li}[j];\n        for (i = 0; i < {ni}; ++i) {{\n"
            f"            acc = acc + {name}_wf{li}[i * {no} + j] * in[i];\n        }}\n"
            "        out[j] = acc;\n    }\n")


def buffers(li: int, src: str) -> tuple[str, str]:
    """(input, output) buffer names of layer li (ping-pong between h0 and h1)."""
    return (src if li == 0 else f"h{(li - 1) % 2}"), f"h{li % 2}"


def exact_body(ir: MLPIR, name: str) -> str:
    w, last, up = ir.widths, len(ir.weights) - 1, name.upper()
    bufs = "".join(f"h{i}[{up}_WMAX], " for i in range(min(last, 2)))
    widen = any(float_layer(ir, li) for li in range(last + 1))
    wcol = f", wcol[{max(w[:-1])}]" if widen else ""
    lines = [f"    double {bufs}part[{up}_PART]{wcol};", f"    int32_t j{', i' if widen else ''};"]
    for li in range(last + 1):
        src, dst = buffers(li, "z")
        target = dst if li < last else "o"
        lines.append(f"    for (j = 0; j < {w[li + 1]}; ++j) {{")
        if float_layer(ir, li):
            lines += [f"        for (i = 0; i < {w[li]}; ++i) {{",
                      f"            wcol[i] = (double){name}_wf{li}[i * {w[li + 1]} + j];",
                      "        }"]
            dot = f"tcg_dot_exact(wcol, 1, {src}, {w[li]}, (double){name}_bf{li}[j], part)"
        else:
            dot = (f"tcg_dot_exact(&{name}_w{li}[j], {w[li + 1]}, {src}, {w[li]}, "
                   f"{name}_b{li}[j], part)")
        value = ACT64[ir.activation].format(dot) if li < last else dot
        lines += [f"        {target}[j] = {value};", "    }"]
    return "\n".join(lines) + "\n"


def predict_body(ir: MLPIR, name: str) -> str:
    w, last, up = ir.widths, len(ir.weights) - 1, name.upper()
    if not ir.fast_ok:  # a weight is not a normal float: the exact path decides every row
        if ir.transform is None:
            return f"    return {name}_slow(x);\n"
        return (f"    double z[{up}_NZ];\n    if (!{name}_input(x, z)) {{\n        return -1;\n"
                f"    }}\n    return {name}_exact_rule(z);\n")
    bufs = "".join(f"h{i}[{up}_WMAX], " for i in range(min(last, 2)))
    lines = [f"    float {bufs}s[{up}_NO], a[{up}_NO], bound[{up}_NO];", "    float H, E;",
             "    int32_t c;"]
    first = 0
    if ir.folded is not None:  # layer 0 from the raw input (ir/linear_fold.py)
        src, slow, first = "x", f"{name}_slow(x)", 1
        lines += [f"    float a0[{w[1]}];",
                  f"    if (!{name}_lanes0(x, h0, a0)",
                  f"        || !tcg_all_le_f32(a0, {w[1]}, {up}_AMAX)) {{",
                  f"        return {slow}; /* also NaN or infinite input, invalid codes */",
                  "    }", "    E = 0.0f;", f"    for (c = 0; c < {w[1]}; ++c) {{",
                  f"        E = tcg_maxf({up}_K0 * a0[c] + {up}_D0, E);", "    }"]
        lines += activation_lines(ir, name, "h0", w[1])
    elif ir.transform is None:
        src, slow = "x", f"{name}_slow(x)"
        lines += [f"    if (!tcg_input_ok(x, {up}_N_FEATURES, 0)) {{", "        return -1;",
                  "    }", f"    H = tcg_maxabs_f32(x, {up}_NZ);", "    E = 0.0f;"]
    else:
        src, slow = "zf", f"{name}_exact_rule(z)"
        lines += [f"    double z[{up}_NZ];", f"    float zf[{up}_NZ];",
                  f"    if (!{name}_input(x, z)) {{", "        return -1;", "    }",
                  f"    if (!tcg_narrow_f32(z, zf, {up}_NZ)) {{", f"        return {slow};",
                  "    }", f"    H = tcg_maxabs_f32(zf, {up}_NZ);",
                  f"    E = {up}_E0 * H + {up}_TINY;"]
    for li in range(first, last):
        inp, out = buffers(li, src)
        lines += [f"    {name}_f{li}({inp}, {out});",
                  f"    E = ({up}_ALPHA{li} * H + {up}_BETA{li}) + {up}_NU{li} * E;"]
        lines += activation_lines(ir, name, out, w[li + 1])
    inp = buffers(last, src)[0]
    lines += [f"    {name}_fo({inp}, s, a);",
              f"    if (tcg_all_le_f32(a, {up}_NO, {up}_AMAX)) {{",
              f"        for (c = 0; c < {up}_NO; ++c) {{",
              f"            bound[c] = (({up}_KOUT * a[c] + {name}_hc[c] * H) + {name}_mu[c] * E)"
              f" + {name}_bo[c];",
              "        }"]
    if ir.binary:
        lines += [f"        if (s[0] > bound[0] + {up}_T) {{", "            return 1;", "        }",
                  "        if (s[0] < -bound[0]) {", "            return 0;", "        }"]
    else:
        lines += [f"        c = tcg_argmax_f32(s, {up}_NO);",
                  f"        if (tcg_sure_argmax_f32(s, bound, {up}_NO, c)) {{",
                  "            return c;", "        }"]
    lines += ["    }", f"    return {slow};"]
    return "\n".join(lines) + "\n"


def activation_lines(ir: MLPIR, name: str, out: str, n: int) -> list[str]:
    """The hidden activation on ``out`` in float, and the bounds H and E it leaves."""
    up = name.upper()
    lines = []
    if ir.activation in ACT32:
        lines += [f"    for (c = 0; c < {n}; ++c) {{",
                  f"        {out}[c] = {ACT32[ir.activation]}({out}[c]);", "    }"]
    if ir.activation in ("tanh", "logistic"):
        return lines + [f"    E = {up}_LAM * E + {up}_EPS;", "    H = 1.0f;"]
    return lines + [f"    H = tcg_maxabs_f32({out}, {n});"]


def folded_first_layer(ir: MLPIR, name: str) -> str:
    """Tables, bound constants and ``NAME_lanes0`` of the folded first layer."""
    ff, up = ir.folded, name.upper()
    assert ff is not None
    # the exact path's double layer-0 weights (tables), input j to unit c
    exact_w = None if float_layer(ir, 0) else f"{name}_w0[j * {ir.widths[1]} + c]"
    return (folded_tables(ff, name, exact_w)
            + "/* |layer-0 pre-activation j - exact| <= K0 a_j + D0 (ir/linear_fold.py) */\n"
            + f"#define {up}_K0 {c_float(ff.k)}\n#define {up}_D0 {c_float(ff.d)}\n"
            + lanes_code(name, "lanes0", str(ir.widths[1]), ir.meta.n_features, f"{name}_wr",
                         f"{name}_br", ff, exact_w))


SLOW = """
/* Rejected input, or a row the fast path cannot decide. */
static int32_t {name}_slow(const float *x)
{{
    double z[{up}_NZ];
    if (!{name}_input(x, z)) {{
        return -1;
    }}
    return {name}_exact_rule(z);
}}
"""


def emit_mlp(ir: MLPIR, name: str) -> CSource:
    up, w = name.upper(), ir.widths
    runtime = RUNTIME + (TRANSFORM_RUNTIME if ir.transform is not None else ())
    runtime = tuple(dict.fromkeys(runtime))
    if ir.binary:
        rule = f"return o[0] >= {c_double(ir.threshold)} ? 1 : 0;"
        rule_doc = "class 1 when expit(o) > 0.5, i.e. o >= the smallest double doing so"
        proba = "tcg_proba_sigmoid(o[0], out);\n    (void)c;"
    else:
        rule, rule_doc = f"return tcg_argmax_f64(o, {up}_NO);", "first arg-max of the logits"
        proba = f"tcg_proba_softmax(o, {up}_NO, out);\n    (void)c;"
    c_text = render(
        "mlp.c.tmpl", NAME=name, UNAME=up, VERSION=__version__,
        SHAPE="-".join(str(v) for v in w), ACTIVATION=ir.activation,
        INCLUDES="".join(f'#include "{h}"\n' for h in runtime),
        N_INPUTS=ir.n_inputs, N_OUT=ir.n_outputs, WMAX=max(w[1:-1], default=1),
        PART=2 * max(w[:-1]) + 1,
        TRANSFORM=transform_code(ir.transform, name, ir.meta.n_features),
        TABLES=tables(ir, name), CONSTS=consts(ir, name) if ir.fast_ok else "/* (none: off) */\n",
        LAYERS=(layers(ir, name) if ir.fast_ok else "")
        + (folded_first_layer(ir, name) if ir.folded is not None else ""),
        EXACT_BODY=exact_body(ir, name), RULE=rule, RULE_DOC=rule_doc,
        SLOW=SLOW.format(name=name, up=up) if ir.transform is None or ir.folded else "",
        PREDICT_BODY=predict_body(ir, name), PROBA_CALL=proba,
    )
    doc = (
        f" * MLP {'-'.join(str(v) for v in w)}, {ir.activation} hidden units. predict runs the\n"
        " * network in float and decides when its proven error bound allows (no exp/tanh at\n"
        " * the output), else reruns it in double with correctly rounded sums. It equals\n"
        " * sklearn's predict except where the output logit is within double rounding of the\n"
        " * boundary. predict_proba: double logits, exp from <math.h>, rounded to float."
    )
    if ir.transform is not None:
        doc += "\n" + transform_doc(ir.transform)
    decls = DECLS.format(name=name) + transform_decls(ir.transform, name)
    files = {f"{name}.h": header(ir.meta, name, "table", guarantee="band", decls=decls,
                                 doc=doc),
             f"{name}.c": c_text}
    files.update(runtime_files(runtime))
    return CSource(name=name, files=files, n_features=ir.meta.n_features,
                   n_classes=ir.meta.n_classes, backend="table", guarantee="band")
