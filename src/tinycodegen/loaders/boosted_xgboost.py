"""Shim until the family registry lands: importing it registers the XGBoost loader."""

from tinycodegen.families.boosted import loader_xgboost  # noqa: F401
