"""A failed build names its first error even when warnings after it fill the output's tail:
an AVR build of a binary64 model stops at the #error and goes on warning, and the AVR
measurement finds the #error in this text to say "n/a on atmega328p" in one line."""

from __future__ import annotations

import sys

import pytest

from tinycodegen.errors import BuildError
from tinycodegen.targets.toolchain import run_tool

GUARD = ('m.c:3:2: error: #error "tinycodegen: this model computes in IEEE binary64 but this '
         "compiler's double is narrower\"")


def _fake_compiler(lines: list[str]) -> list[str]:
    script = "import sys\n" + "".join(f"print({ln!r}, file=sys.stderr)\n" for ln in lines) + (
        "sys.exit(1)\n")
    return [sys.executable, "-c", script]


def test_first_error_survives_a_flood_of_warnings() -> None:
    warnings = [f"m.c:{i}:5: warning: floating constant truncated to zero" for i in range(10, 60)]
    with pytest.raises(BuildError) as info:
        run_tool(_fake_compiler([GUARD, *warnings]), "building for atmega328p")
    text = str(info.value)
    assert GUARD in text and warnings[-1] in text and warnings[0] not in text
    assert len(text.splitlines()) == 1 + 1 + 1 + 25  # head line, the error, "...", the tail


def test_short_output_is_shown_whole() -> None:
    with pytest.raises(BuildError) as info:
        run_tool(_fake_compiler(["m.c:1:1: warning: w", GUARD]), "building")
    assert str(info.value).splitlines()[1:] == ["m.c:1:1: warning: w", GUARD]
