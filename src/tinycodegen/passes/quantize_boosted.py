"""Shim: registers the boosted-trees quantizer (families/boosted/quantize.py) and the emitter
of its result (families/boosted/qemit.py) through today's discovery of ``passes/quantize_*``
modules; the family registry replaces it."""

from tinycodegen.families.boosted import qemit  # noqa: F401  (registers the qboosted emitter)
from tinycodegen.families.boosted.quantize import quantize_boosted
from tinycodegen.passes import register_quantizer

register_quantizer("boosted_trees")(quantize_boosted)
