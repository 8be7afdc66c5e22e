"""Shim until the family registry lands: importing it registers the LightGBM loader."""

from tinycodegen.families.boosted import loader_lightgbm  # noqa: F401
