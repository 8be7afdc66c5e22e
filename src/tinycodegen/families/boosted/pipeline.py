"""A Pipeline of scalers in front of GradientBoostingClassifier or XGBClassifier: folded into
the thresholds.

GB casts the transformed input to float32 and tests ``x32 <= t`` (``README.md``), exactly the
forests' situation: ``families/pipeline/fold.py`` finds, per split, the raw float32 threshold (and
whether the children swap) for which the raw test decides what sklearn decides on the
transformed value. Every used column must fold (scalers; no categorical encoder); a
finite raw value whose transformed float32 would overflow is refused by sklearn, and by the C
(``x_range``); HistGradientBoosting compares the transformed *double* with a
double threshold and takes +-inf as a value, which the float32 fold does not describe: refused.
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

    # XGBoost casts the transformed double to float32 too, and takes +-inf as a value
    xgb = ir.link.startswith("xgb_")
    if not (ir.meta.nan_policy == "reject" or xgb) or ir.has_categorical \
            or ir.missing_zero.any():
        raise UnsupportedModelError(
            f"{meta.estimator}: preprocessing in front of it is not supported (only "
            "GradientBoostingClassifier and XGBClassifier, which cast their input to float32)")
    # per-node arrays other than the ones the fold renumbers are constant here (no categorical
    # or missing-zero nodes); the training weights are a layout hint only and are dropped
    try:
        folded = fold_into_trees(dataclasses.replace(ir, child_weight=None),  # type: ignore
                                 transform, meta, inf_ok=xgb)
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
    if xgb:
        return _xgb_inputs(folded, transform, meta)
    return folded


def _xgb_inputs(folded: BoostedTreesIR, transform: InputTransform, meta: ModelMeta
                ) -> BoostedTreesIR:
    """XGBoost accepts every value, the scalers in front refuse raw +-inf (``inf_reject``,
    NaN passes as NaN); a chain refusing some finite raw values (``x_range``) is refused."""
    fmax = np.finfo(np.float32).max
    if (folded.x_range[:, 0] > -fmax).any() or (folded.x_range[:, 1] < fmax).any():
        raise UnsupportedModelError(
            f"{meta.estimator}: a scaler chain that refuses some finite values is not "
            "supported in front of it")
    inf_reject = np.zeros(meta.n_features, dtype=bool)
    inf_reject[[out.src for out in transform.outputs]] = True
    return dataclasses.replace(folded, inf_reject=inf_reject)
