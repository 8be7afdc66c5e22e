"""The boosted-trees family's declaration (read by the registry once it lists families; until
then the shims ``loaders/boosted.py`` and ``emit/emit_boosted.py`` hook it in)."""

from __future__ import annotations

from tinycodegen.families.boosted.emit import emit_boosted_table
from tinycodegen.families.boosted.loader_sklearn import (
    load_gradient_boosting,
    load_hist_gradient_boosting,
)
from tinycodegen.families.registry import Family

FAMILY = Family(
    name="boosted",
    estimators={"GradientBoostingClassifier": load_gradient_boosting,
                "HistGradientBoostingClassifier": load_hist_gradient_boosting},
    kinds=("boosted_trees",),
    emitters={("boosted_trees", "table"): emit_boosted_table},
    refusals={"boosted_trees": "quantized boosted trees are not implemented yet"},
    docs=("README.md",),
)
