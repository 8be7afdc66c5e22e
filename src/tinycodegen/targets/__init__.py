"""Measure generated models on microcontroller targets and on the host.

``measure(c_dir, name, X, target)`` cross-compiles ``NAME.h``/``NAME.c`` into a
minimal bare-metal harness, reports flash/RAM against a stub image, runs every
row (or a seeded stratified sample) in the unicorn emulator counting exact
instructions and TRM-table cycles, and checks the image against a realistic
memory map.  ``target="host"`` reports callgrind instructions and ns per
inference of the host build.
"""

from __future__ import annotations

from tinycodegen.targets.measure import Measurement, measure
from tinycodegen.targets.toolchain import TARGET_SPECS, TARGETS, MemoryMap, TargetError

__all__ = ["TARGETS", "TARGET_SPECS", "Measurement", "MemoryMap", "TargetError", "measure"]
