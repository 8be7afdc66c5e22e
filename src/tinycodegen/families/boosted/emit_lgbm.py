"""LightGBM's predict in C without exp where its rule allows (see README.md, LightGBM).

Binary: argmax([1 - p, p]) is one compare of the double raw margin with the compile-time cut
(:func:`link_lightgbm.binary_cut`). Multiclass: the first maximum of the probabilities is the first
maximum of the raw sums unless an earlier class is within 2^-39 of the top (then exp(d) and the
division by the sum could round to a tie); only that near-tie runs the link.
"""

from __future__ import annotations

from tinycodegen.core.csource import c_double
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.boosted.link_lightgbm import binary_cut

NEAR_TIE = 2.0**-39  # exp(-d) <= 1 - 2^-40 below it: the quotients stay strictly ordered


def lgbm_decide(ir: BoostedTreesIR, name: str) -> str | None:
    """predict's C statements for LightGBM links, or None for other links."""
    if ir.predict_rule != "proba_argmax":
        return None
    if ir.link == "lgbm_sigmoid":
        cut = c_double(binary_cut(ir.link_param))
        return f"/* argmax([1 - p, p]) without exp: raw >= the cut (proof page) */\n" \
               f"return raw[0] >= {cut} ? 1 : 0;"
    if ir.link != "lgbm_softmax":
        return None
    k = ir.n_outputs
    return (f"int32_t k, best = 0;\ndouble p[{k}];\n"
            f"for (k = 1; k < {k}; ++k) {{\n    if (raw[k] > raw[best]) {{\n"
            "        best = k;\n    }\n}\n"
            "for (k = 0; k < best; ++k) {\n"
            f"    if (raw[k] - raw[best] > -{c_double(NEAR_TIE)}) {{\n"
            "        break; /* near tie: decide on the probabilities, as LightGBM */\n"
            "    }\n}\n"
            "if (k == best) {\n    return best;\n}\n"
            f"{name}_link(raw, p);\nbest = 0;\n"
            f"for (k = 1; k < {k}; ++k) {{\n    if (p[k] > p[best]) {{\n"
            "        best = k;\n    }\n}\nreturn best;")
