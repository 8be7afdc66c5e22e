"""The hand-written C runtime headers (top-level ``c_runtime/tcg_*.h``, the package
``tinycodegen.c_runtime``) shipped beside generated code."""

from __future__ import annotations

import re
from importlib import resources

_INCLUDE = re.compile(r'^#include "(tcg_[a-z0-9_]+\.h)"', re.MULTILINE)


def runtime_files(names: tuple[str, ...]) -> dict[str, str]:
    """The named headers and every runtime header they include (transitively)."""
    root = resources.files("tinycodegen.c_runtime")
    out: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in out:
            out[name] = root.joinpath(name).read_text()
            todo.extend(_INCLUDE.findall(out[name]))
    return out
