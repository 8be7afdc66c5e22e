"""What both comparison wrappers share: a Pipeline's preprocessing applied in the wrapper.

Other tools compile only the final estimator; the wrapper then runs tinycodegen's own compiled
preprocessing (``NAME_input``: the raw input in, the estimator's double input out) in front of
it, so the tool sees exactly the inputs sklearn's estimator sees. Without a Pipeline the raw
float input goes straight to the tool (no input check: the tool's own behaviour is reported).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinycodegen.core.classes import is_sklearn
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.core.runtime import runtime_files
from tinycodegen.core.transform_c import RUNTIME as TRANSFORM_RUNTIME
from tinycodegen.core.transform_c import transform_code, transform_decls
from tinycodegen.lower import load


@dataclass(frozen=True)
class Split:
    estimator: Any  # what the tool compiles
    transform: InputTransform | None  # preprocessing the wrapper applies first
    meta: Any  # ModelMeta of the whole model (raw inputs)
    ir: Any  # IR of the estimator alone


def split_model(model: Any) -> Split:
    meta = load(model).meta
    transform = None
    estimator = model
    if is_sklearn(model, "Pipeline"):
        from tinycodegen.families.pipeline.loader import build_transform, flat_steps

        steps = flat_steps(model)
        estimator = steps[-1][1]
        transform = build_transform(model, steps[:-1])
    return Split(estimator=estimator, transform=transform, meta=meta, ir=load(estimator))


def input_code(split: Split, name: str, ctype: str) -> tuple[str, str]:
    """(C defining ``NAME_input`` or nothing, statements filling ``in[]`` of ``ctype`` from x;
    with a transform they return -1 after zeroing ``out`` / ``dec`` for rejected input)."""
    nz = split.ir.meta.n_features
    if split.transform is None:
        return "", f"    for (i = 0; i < {nz}; ++i) in[i] = ({ctype})x[i];\n"
    code = transform_code(split.transform, name, split.meta.n_features)
    fill = (
        f"    {{\n        double z[{nz}];\n        if (!{name}_input(x, z)) {{\n"
        f"            if (out != 0) for (i = 0; i < {split.meta.n_classes}; ++i) out[i] = 0.0f;\n"
        "            return -1;\n        }\n"
        f"        for (i = 0; i < {nz}; ++i) in[i] = ({ctype})z[i];\n    }}\n"
    )
    return code, fill


def extra_files(split: Split) -> dict[str, str]:
    return runtime_files(TRANSFORM_RUNTIME) if split.transform is not None else {}


def extra_decls(split: Split, name: str) -> str:
    return transform_decls(split.transform, name)
