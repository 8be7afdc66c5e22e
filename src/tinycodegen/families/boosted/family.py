"""The boosted-trees family: sklearn GradientBoosting / HistGradientBoosting, XGBoost and
LightGBM classifiers; the table, size and speed layouts (a walk times the boosted sum,
``aggregate.py``) and the quantized table (int8 / int16)."""

from __future__ import annotations

from tinycodegen.families.boosted.emit import emit_boosted_table
from tinycodegen.families.boosted.ir import BoostedTreesIR
from tinycodegen.families.boosted.loader_lightgbm import load_lightgbm
from tinycodegen.families.boosted.loader_sklearn import (
    load_gradient_boosting,
    load_hist_gradient_boosting,
)
from tinycodegen.families.boosted.loader_xgboost import load_xgb_classifier
from tinycodegen.families.boosted.qemit import emit_qboosted_table
from tinycodegen.families.boosted.qir import QBoostedTreesIR
from tinycodegen.families.boosted.quantize import quantize_boosted
from tinycodegen.families.boosted.walks import emit_boosted_size, emit_boosted_speed
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="boosted",
    estimators={"GradientBoostingClassifier": load_gradient_boosting,
                "HistGradientBoostingClassifier": load_hist_gradient_boosting,
                "xgboost.XGBClassifier": load_xgb_classifier,
                "lightgbm.LGBMClassifier": load_lightgbm},
    kinds=("boosted_trees", "qboosted_trees"),
    emitters={("boosted_trees", "table"): emit_boosted_table,
              ("boosted_trees", "size"): emit_boosted_size,
              ("boosted_trees", "speed"): emit_boosted_speed,
              ("qboosted_trees", "table"): emit_qboosted_table},
    quantizers={"boosted_trees": quantize_boosted},
    refusals={"qboosted_trees": "already quantized: its integers are the reference"},
    docs=("README.md", "README_quantized.md"),
    irs={"boosted_trees": BoostedTreesIR, "qboosted_trees": QBoostedTreesIR},
)
