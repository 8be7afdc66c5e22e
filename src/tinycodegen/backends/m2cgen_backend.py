"""``--backend m2cgen``: m2cgen's C (double arithmetic), wrapped in tinycodegen's contract.

m2cgen's ``score`` takes ``double *``; the wrapper widens each float input to double, as a user
calling it from float sensor data would (a Pipeline's preprocessing runs first, see
wrapping.py). Its global helper names are renamed per model so two models link together.

Conventions per family: trees score class probabilities; linear models score the decision
values (one for binary: class 1 when > 0), so the wrapper exposes them as decision_function
and applies sklearn's link (sigmoid / softmax / one-vs-rest, tcg_expit.h) for predict_proba, as
a user would; multiclass SVC scores one-vs-one values (votes, first maximum).

Boosted trees (m2cgen 0.10.0): LGBMClassifier with numeric splits converts (its score writes
the probabilities, [1 - p, p] for binary; predict is their first maximum, as LightGBM's);
GradientBoosting- and HistGradientBoostingClassifier are not m2cgen models; LightGBM categorical
splits and XGBClassifier from xgboost >= 2 are refused here with the reason
(``lightgbm_categorical``, ``xgboost_base_score``).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tinycodegen.backends import register_wrapper
from tinycodegen.backends.wrapping import extra_decls, extra_files, input_code, split_model
from tinycodegen.core.classes import is_sklearn
from tinycodegen.core.csource import CSource, header
from tinycodegen.core.runtime import runtime_files
from tinycodegen.errors import TinycodegenError
from tinycodegen.families.linear.emit import proba_call

DEC_DECL = """
/* m2cgen's score: sklearn's decision_function ({k} values), rounded to float. */
void {name}_decision_function(const float *x, float *out);
"""


def xgboost_base_score(estimator: Any) -> None:
    """m2cgen 0.10.0 builds an XGBClassifier's intercept from ``get_params()["base_score"]``;
    xgboost >= 2 leaves that None (the fitted intercept is only in the booster's JSON config,
    e.g. "[4.654172E-1]"), and m2cgen then fails in a division. Say so in one line."""
    if not type(estimator).__module__.startswith("xgboost."):
        return
    if estimator.get_params().get("base_score") is None:
        import xgboost

        raise TinycodegenError(
            f"m2cgen cannot convert {type(estimator).__name__} from xgboost {xgboost.__version__}:"
            " m2cgen 0.10.0 reads the intercept from get_params()['base_score'], which xgboost"
            " >= 2 leaves None (the fitted value is only in the booster's JSON config)")


def lightgbm_categorical(estimator: Any) -> None:
    """m2cgen 0.10.0 knows only LightGBM's numeric splits: a categorical split (decision_type
    "==") stops it with a bare AssertionError("Unexpected comparison op"). Say so in one line."""
    if not type(estimator).__module__.startswith("lightgbm."):
        return
    stack = [t["tree_structure"] for t in estimator.booster_.dump_model()["tree_info"]]
    while stack:
        node = stack.pop()
        if node.get("decision_type") == "==":
            raise TinycodegenError(
                f"m2cgen cannot convert {type(estimator).__name__}: m2cgen 0.10.0 has no "
                "LightGBM categorical splits (decision_type '=='); this model has some")
        stack += [node[k] for k in ("left_child", "right_child") if k in node]


def export(estimator: Any) -> str:
    import m2cgen

    xgboost_base_score(estimator)
    lightgbm_categorical(estimator)

    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 100_000))
        return m2cgen.export_to_c(estimator)
    except Exception as exc:
        raise TinycodegenError(
            f"m2cgen cannot convert {type(estimator).__name__}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        sys.setrecursionlimit(limit)


_COMPOUND = re.compile(r"memcpy\((\w+), \(double\[\]\)\{([^{}]*)\}, (\w+) \* sizeof\(double\)\);")


def cxx_compatible(code: str) -> str:
    """m2cgen's ``memcpy(v, (double[]){...}, n * sizeof(double))``: a compound literal, which
    C++ lacks; the same copy from a named local array compiles as C99 and as C++11."""
    return _COMPOUND.sub(
        r"{ const double lit[] = {\2}; memcpy(\1, lit, \3 * sizeof(double)); }", code)


def linear_body(kind: str, k: int, nc: int, scalar: bool) -> str:
    call = "    o[0] = score(in);\n" if scalar else "    score(in, o);\n"
    link = (f"for (i = 0; i < {nc}; ++i) p[i] = 0.0;" if kind == "none"
            else proba_call(kind, k, scores="o", out="p"))
    return (
        f"    double o[{k}], p[{nc}];\n    int32_t best = 0;\n{call}"
        f"    if (dec != 0) for (i = 0; i < {k}; ++i) dec[i] = (float)o[i];\n"
        f"    if (out != 0) {{\n        {link}\n"
        f"        for (i = 0; i < {nc}; ++i) out[i] = (float)p[i];\n    }}\n"
        + ("    best = o[0] > 0.0 ? 1 : 0;\n" if k == 1 else
           f"    for (i = 1; i < {k}; ++i) {{ if (o[i] > o[best]) best = i; }}\n")
        + "    return best;\n"
    )


@register_wrapper("m2cgen")
def wrap_m2cgen(model: Any, name: str) -> CSource:
    split = split_model(model)
    code = cxx_compatible(export(split.estimator))
    nz, nc = split.ir.meta.n_features, split.meta.n_classes
    funcs = sorted(set(re.findall(r"^\w[\w\s\*]*?\b(\w+)\s*\(", code, flags=re.M)))
    renames = "".join(f"#define {f} {name}_m2c_{f}\n" for f in funcs)
    scalar = re.search(r"^double\s+score\s*\(", code, flags=re.M) is not None
    linear = split.ir.kind == "linear"
    k = split.ir.n_scores if linear else 0
    if linear:
        body = linear_body(split.ir.proba, k, nc, scalar)
    elif is_sklearn(split.estimator, "SVC", "NuSVC") and nc > 2:
        body = svc_ovo_body(nc)
    elif scalar:  # binary decision value: class 1 when positive (m2cgen's own convention)
        body = (
            "    const double s = score(in);\n"
            "    if (out != 0) { out[0] = (float)(1.0 - (s > 0.0)); out[1] = (float)(s > 0.0); }\n"
            "    return s > 0.0 ? 1 : 0;\n"
        )
    else:
        body = (
            f"    double o[{nc}];\n    int32_t k, best = 0;\n    score(in, o);\n"
            f"    for (k = 1; k < {nc}; ++k) {{ if (o[k] > o[best]) best = k; }}\n"
            f"    if (out != 0) {{ for (k = 0; k < {nc}; ++k) out[k] = (float)o[k]; }}\n"
            f"    return best;\n"
        )
    transform, fill = input_code(split, name, "double")
    includes = '#include "tcg_expit.h"\n' if linear else ""
    c_text = (
        f"/* {name}.c - m2cgen output wrapped by tinycodegen: not exact (comparison "
        "backend). */\n"
        f'#include "{name}.h"\n{includes}{renames}\n{code}\n\n{transform}\n'
        f"static int32_t {name}_run(const float *x, float *out, float *dec)\n{{\n"
        f"    double in[{nz}];\n    int32_t i;\n    (void)dec;\n{fill}{body}}}\n\n"
        f"int32_t {name}_predict(const float *x)\n{{\n    return {name}_run(x, 0, 0);\n}}\n\n"
        f"void {name}_predict_proba(const float *x, float *out)\n{{\n"
        f"    (void){name}_run(x, out, 0);\n}}\n"
    )
    decls = extra_decls(split, name)
    extra: tuple[str, ...] = ()
    if linear:
        c_text += (f"\nvoid {name}_decision_function(const float *x, float *out)\n{{\n"
                   f"    int32_t i;\n    for (i = 0; i < {k}; ++i) out[i] = 0.0f;\n"
                   f"    (void){name}_run(x, 0, out);\n}}\n")
        decls = DEC_DECL.format(name=name, k=k) + decls
        extra = (f"decision_function:{k}",)
    files = {
        f"{name}.h": header(split.meta, name, "m2cgen", guarantee="none",
                            doc=" * m2cgen's own rules, unchecked.", decls=decls),
        f"{name}.c": c_text,
    }
    if linear:
        files.update(runtime_files(("tcg_proba.h", "tcg_expit.h")))
    files.update(extra_files(split))
    return CSource(name=name, files=files, n_features=split.meta.n_features, n_classes=nc,
                   backend="m2cgen", strict=False, extra_functions=extra, guarantee="none")


def svc_ovo_body(nc: int) -> str:
    """Multiclass SVC: m2cgen's score writes the one-vs-one values (pair (i, j) favours i when
    positive, sklearn's dual_coef_ sign); applied the libsvm way: votes, first maximum; the
    "proba" is the one-hot vote (m2cgen has no SVC probabilities)."""
    n_pairs = nc * (nc - 1) // 2
    return (
        f"    double o[{n_pairs}];\n    int32_t v[{nc}] = {{0}};\n    int32_t a, b, p = 0, c = 0;\n"
        f"    score(in, o);\n    for (a = 0; a < {nc}; ++a)\n"
        f"        for (b = a + 1; b < {nc}; ++b) ++v[o[p++] > 0.0 ? a : b];\n"
        f"    for (a = 1; a < {nc}; ++a) {{ if (v[a] > v[c]) c = a; }}\n"
        f"    if (out != 0) {{ for (a = 0; a < {nc}; ++a) out[a] = (float)(a == c); }}\n"
        f"    return c;\n"
    )
