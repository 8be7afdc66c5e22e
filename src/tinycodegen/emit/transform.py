"""C for an InputTransform: ``static int NAME_input(const float *x, double *z)``.

Returns 0 when the input is rejected (NaN or infinite anywhere), else writes the estimator's
float64 input vector to ``z`` and returns 1. Families call this before their own arithmetic.
"""

from __future__ import annotations

from tinycodegen.ir.preprocess import InputTransform

RUNTIME = ("tcg_input.h",)


def transform_code(transform: InputTransform | None, name: str, n_features: int) -> str:
    if transform is None:
        return (
            f"static int {name}_input(const float *x, double *z)\n{{\n"
            f"    int32_t i;\n"
            f"    if (!tcg_input_ok(x, {n_features}, 0)) {{\n        return 0;\n    }}\n"
            f"    for (i = 0; i < {n_features}; ++i) {{\n        z[i] = (double)x[i];\n    }}\n"
            f"    return 1;\n}}\n"
        )
    raise NotImplementedError("preprocessing transforms: see tinycodegen.emit.transform")
