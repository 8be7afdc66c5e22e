"""The hand-written C runtime headers (``c_runtime/tcg_*.h``) shipped beside generated code."""

from __future__ import annotations

from importlib import resources


def runtime_files(names: tuple[str, ...]) -> dict[str, str]:
    root = resources.files("tinycodegen").joinpath("c_runtime")
    return {n: root.joinpath(n).read_text() for n in names}
