"""A Pipeline of scalers in front of a boosted model: folded into its thresholds (proof:
``README.md``, "In Pipelines").

GB and XGBoost cast the transformed double to float32 and test ``x32 <= t`` (XGBoost's ``<``
lowered by its loader), exactly the forests' situation: ``families/pipeline/fold.py`` finds, per
split, the raw float32 threshold (and whether the children swap) for which the raw test decides
what the library decides on the transformed value. HistGradientBoosting and LightGBM compare the
transformed *double* with a double threshold (``threshold64``): the same bisection over the
float32 raw values, on that double test (``wide``). Every used column must fold (scalers; no
categorical encoder). GB refuses a finite raw value whose transformed float32 would overflow, and
so does the C (``x_range``); the other three take any transformed value, but the scalers refuse
raw +-inf (``inf_reject``). Categorical splits and LightGBM's missing-zero nodes are refused.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinycodegen.core.base import ModelMeta
from tinycodegen.core.preprocess import InputTransform
from tinycodegen.errors import UnsupportedModelError
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.pipeline.ir import PipelineTreeIR


def fold_boosted(ir: BoostedTreesIR, transform: InputTransform, meta: ModelMeta
                 ) -> BoostedTreesIR:
    """The pass ``BoostedTreesIR.lowered`` runs on a Pipeline's pending transform."""
    from tinycodegen.families.pipeline.fold import FLT_MAX, fold_into_trees

    # GB and XGBoost round the transformed double to float32; HGB and LightGBM compare it,
    # a double, with their double thresholds (``threshold64``); the last three take +-inf
    xgb = ir.link.startswith("xgb_")
    wide = ir.meta.nan_policy == "accept" and not xgb
    if (wide and ir.threshold64 is None) or ir.has_categorical or ir.missing_zero.any() \
            or ir.inf_reject.any():
        raise UnsupportedModelError(
            f"{meta.estimator}: preprocessing in front of it is supported only without "
            "categorical splits and LightGBM's zero_as_missing")
    # per-node arrays other than the ones the fold renumbers are constant here (no categorical
    # or missing-zero nodes); the training weights are a layout hint only and are dropped
    try:
        folded = fold_into_trees(
            dataclasses.replace(ir, child_weight=None, threshold64=None),  # type: ignore
            transform, meta, inf_ok=xgb or wide, t64=ir.threshold64 if wide else None)
    except ValueError:  # the IR's check: a transform whose width differs from its input's
        folded = None
    if isinstance(folded, PipelineTreeIR) and not folded.prep.n_outputs \
            and not transform.categorical:  # every column folds, on a range of raw values
        core = folded.core
        x_range = np.tile(np.float32([-FLT_MAX, FLT_MAX]), (meta.n_features, 1))
        x_range[folded.raw_src, 0] = folded.raw_lo
        x_range[folded.raw_src, 1] = folded.raw_hi
        folded = dataclasses.replace(
            core, meta=folded.meta, feature=folded.raw_src[core.feature].astype(np.int32),
            inf_reject=None, x_range=x_range)
    if not isinstance(folded, BoostedTreesIR):
        raise UnsupportedModelError(
            f"{meta.estimator}: only scalers that fold exactly into "
            "its thresholds (no encoders, no clipping, finite over every float) are supported")
    if xgb or wide:
        return _accepting_inputs(folded, transform, meta)
    return folded


def _accepting_inputs(folded: BoostedTreesIR, transform: InputTransform, meta: ModelMeta
                      ) -> BoostedTreesIR:
    """XGBoost, HGB and LightGBM accept every value; the scalers in front refuse raw +-inf
    (``inf_reject``; NaN passes as NaN); a chain refusing some finite raw values is refused."""
    fmax = np.finfo(np.float32).max
    if (folded.x_range[:, 0] > -fmax).any() or (folded.x_range[:, 1] < fmax).any():
        raise UnsupportedModelError(
            f"{meta.estimator}: a scaler chain that refuses some finite values is not "
            "supported in front of it")
    inf_reject = np.zeros(meta.n_features, dtype=bool)
    inf_reject[[out.src for out in transform.outputs]] = True
    return dataclasses.replace(folded, inf_reject=inf_reject)
