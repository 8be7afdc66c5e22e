"""Stop a build whose C computes in ``double`` where ``double`` is not IEEE binary64.

avr-gcc's ``double`` is 32 bits (DBL_MANT_DIG 24): C that replays sklearn's float64 arithmetic
would then silently compute in float32. Every generated ``.c`` file whose code (not comments)
uses ``double``, or calls a runtime function (``tcg_*.h``) that does, gets an ``#error`` for
such compilers, unless it computes through ``tcg_f64.h`` (the trees), which replays binary64
in integer arithmetic there.
"""

from __future__ import annotations

import dataclasses
import re

from tinycodegen.core.csource import CSource

GUARD = """#include <float.h>
#if DBL_MANT_DIG < 53
#error "tinycodegen: this model computes in IEEE binary64 but this compiler's double is narrower \
(avr-gcc: 32 bits); build it for a target with a 64-bit double (avr-gcc >= 10: -mdouble=64)"
#endif
"""
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\])*\"", re.DOTALL)
_DOUBLE = re.compile(r"\bdouble\b")


_CALL = re.compile(r"\b(tcg_\w+)\s*\(")
_FUNC = re.compile(r"static inline [^;{()]*?\b(tcg_\w+)\s*\(([^)]*)\)\s*\{")


def uses_double(c_text: str) -> bool:
    """True when the code, outside comments and string literals, names ``double``."""
    return bool(_DOUBLE.search(_COMMENTS.sub(" ", c_text)))


def double_functions(headers: list[str]) -> frozenset[str]:
    """Runtime functions whose signature or body uses ``double``, or that call one that does
    (a body runs up to the next function)."""
    bodies: dict[str, str] = {}
    for header in headers:
        code = _COMMENTS.sub(" ", header)
        starts = list(_FUNC.finditer(code))
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(code)
            bodies[m.group(1)] = code[m.start():end]
    out = {n for n, body in bodies.items() if _DOUBLE.search(body)}
    grew = True
    while grew:
        more = {n for n, body in bodies.items() if n not in out and set(_CALL.findall(body)) & out}
        out |= more
        grew = bool(more)
    return frozenset(out)


def guard_text(c_text: str, double_fns: frozenset[str] = frozenset()) -> str:
    if GUARD in c_text or '#include "tcg_f64.h"' in c_text:
        return c_text
    code = _COMMENTS.sub(" ", c_text)
    calls = set(_CALL.findall(code))
    if not _DOUBLE.search(code) and not calls & double_fns:
        return c_text
    at = c_text.find("#include")
    at = 0 if at < 0 else at
    return c_text[:at] + GUARD + c_text[at:]


def guard_double(source: CSource) -> CSource:
    """``source`` with the guard in every ``.c`` file that needs it."""
    fns = double_functions([t for n, t in source.files.items()
                            if n.startswith("tcg_") and n.endswith(".h")])
    files = {n: guard_text(t, fns) if n.endswith(".c") else t for n, t in source.files.items()}
    return source if files == source.files else dataclasses.replace(source, files=files)
