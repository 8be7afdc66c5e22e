"""Loader for ``Pipeline``: preprocessing steps -> :class:`InputTransform`, last step -> its IR.

Tree ensembles get the transform folded (``passes.fold_transform``); families whose IR has a
``transform`` field get it attached; anything else is one clear error naming the step.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tinycodegen.errors import UnsupportedModelError
from tinycodegen.ir.preprocess import CategoricalInput, InputTransform, NumericOutput
from tinycodegen.loaders import load_ir, register
from tinycodegen.loaders.classes import is_sklearn, sklearn_class
from tinycodegen.loaders.pipeline_steps import Block, Walker, unsupported
from tinycodegen.names import column_identifiers, comment_text


def flat_steps(model: Any) -> list[tuple[str, Any]]:
    """Steps with a Pipeline in last position spliced in (its steps are applied in turn)."""
    steps = list(model.steps)
    name, last = steps[-1]
    if not isinstance(last, str | None) and sklearn_class(last) == "Pipeline":
        return steps[:-1] + [(f"{name}/{n}", e) for n, e in flat_steps(last)]
    return steps


def raw_names(model: Any, n_inputs: int) -> tuple[str, ...] | None:
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else tuple(str(n) for n in names[:n_inputs])


def _label(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return repr(float(v))
    return str(v)


def build_transform(model: Any, steps: list[tuple[str, Any]]) -> InputTransform | None:
    """The transform of ``steps`` (every step but the estimator); None if they do nothing."""
    n_inputs = int(model.n_features_in_)
    walker = Walker()
    block = Block([NumericOutput(i) for i in range(n_inputs)])
    for name, est in steps:
        block = walker.step(name, est, block)
    descr = tuple(comment_text(f"{n}: {e if isinstance(e, str) else type(e).__name__}")
                  for n, e in steps
                  if e is not None and not (isinstance(e, str) and e == "passthrough"))
    if not descr:
        return None
    numeric_src = {c.src for c in block.cols if isinstance(c, NumericOutput)}
    both = sorted(numeric_src & set(walker.cats))
    names = raw_names(model, n_inputs)
    if both:
        col = names[both[0]] if names else f"x{both[0]}"
        raise UnsupportedModelError(
            f"Pipeline: input column {col!r} is both encoded as a category and used as a "
            "number; the C input cannot hold both its category index and its value"
        )
    cnames = column_identifiers(names, sorted(walker.cats))
    categorical = tuple(
        CategoricalInput(index=src, name=cnames[src], column=names[src] if names else None,
                         labels=tuple(_label(v) for v in cat.values),
                         reject=cat.reject.copy(), values=cat.values)
        for src, cat in sorted(walker.cats.items())
    )
    return InputTransform(n_inputs=n_inputs, n_outputs=len(block.cols), outputs=tuple(block.cols),
                          categorical=categorical, sparse_output=block.sparse, steps=descr)


def categorical_inputs(model: Any) -> tuple[CategoricalInput, ...]:
    """The categorical raw columns of a Pipeline (empty for anything else)."""
    if not is_sklearn(model, "Pipeline"):
        return ()
    transform = build_transform(model, flat_steps(model)[:-1])
    return () if transform is None else transform.categorical


@register("Pipeline")
def load_pipeline(model: Any) -> Any:
    steps = flat_steps(model)
    final_name, final = steps[-1]
    if final is None or isinstance(final, str):
        raise unsupported(final_name, final, "the last step must be a classifier")
    transform = build_transform(model, steps[:-1])
    try:
        ir = load_ir(final)
    except UnsupportedModelError as exc:
        raise UnsupportedModelError(
            f"Pipeline step '{final_name}' ({type(final).__name__}): {exc}"
        ) from None
    if transform is None:
        return ir
    return attach(ir, transform, model, final_name, final)


def attach(ir: Any, transform: InputTransform, model: Any, final_name: str, final: Any) -> Any:
    """The IR of transform + estimator: folded for trees, else via the IR's transform field."""
    meta = dataclasses.replace(
        ir.meta, n_features=transform.n_inputs,
        feature_names=raw_names(model, transform.n_inputs),
        estimator=f"Pipeline({', '.join(transform.steps)}, {final_name}: {ir.meta.estimator})",
    )
    if ir.kind == "calibrated":  # every fitted classifier takes the transformed input
        members = tuple(attach(m, transform, model, final_name, final) for m in ir.members)
        return dataclasses.replace(ir, members=members, meta=meta)
    if ir.kind == "tree_ensemble":
        from tinycodegen.passes.fold_transform import fold_into_trees

        return fold_into_trees(ir, transform, meta)
    if ir.kind == "boosted_trees":
        from tinycodegen.families.boosted.pipeline import fold_boosted

        return fold_boosted(ir, transform, meta, final_name)
    fields = {f.name for f in dataclasses.fields(ir)}
    if "transform" not in fields:
        raise UnsupportedModelError(
            f"Pipeline step '{final_name}' ({type(final).__name__}): preprocessing in front of "
            f"this estimator is not supported yet"
        )
    if getattr(ir, "transform", None) is not None:
        raise UnsupportedModelError(f"Pipeline step '{final_name}': already has a transform")
    return dataclasses.replace(ir, transform=transform, meta=meta)
