"""Shim until the family registry lands: importing the boosted loaders registers them."""

from tinycodegen.families.boosted import loader_sklearn  # noqa: F401
