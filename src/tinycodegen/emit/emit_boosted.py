"""Shim until the family registry lands: registers the boosted trees' writer."""

from tinycodegen.emit.registry import register_emitter
from tinycodegen.families.boosted.emit import emit_boosted_table

register_emitter("boosted_trees", "table")(emit_boosted_table)
