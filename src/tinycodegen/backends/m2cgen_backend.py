"""``--backend m2cgen``: m2cgen's C (double arithmetic), wrapped in tinycodegen's contract.

m2cgen's ``score`` takes ``double *``; the wrapper widens each float input to double, as a user
calling it from float sensor data would. Its global helper names are renamed per model so two
models link together.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tinycodegen.backends import register_wrapper
from tinycodegen.emit.common import CSource, header
from tinycodegen.errors import TinycodegenError
from tinycodegen.loaders import load_ir


@register_wrapper("m2cgen")
def wrap_m2cgen(model: Any, name: str) -> CSource:
    import m2cgen

    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, 100_000))
        code = m2cgen.export_to_c(model)
    except Exception as exc:
        raise TinycodegenError(
            f"m2cgen cannot convert {type(model).__name__}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        sys.setrecursionlimit(limit)
    meta = load_ir(model).meta
    nf, nc = meta.n_features, meta.n_classes
    funcs = sorted(set(re.findall(r"^\w[\w\s\*]*?\b(\w+)\s*\(", code, flags=re.M)))
    renames = "".join(f"#define {f} {name}_m2c_{f}\n" for f in funcs)
    scalar = re.search(r"^double\s+score\s*\(", code, flags=re.M) is not None
    if scalar:  # binary decision value: class 1 when positive (m2cgen's own convention)
        body = (
            "    const double s = score(in);\n"
            "    if (out != 0) { out[0] = (float)(1.0 - (s > 0.0)); out[1] = (float)(s > 0.0); }\n"
            "    return s > 0.0 ? 1 : 0;\n"
        )
    else:
        body = (
            f"    double o[{nc}];\n    int32_t k, best = 0;\n    score(in, o);\n"
            f"    for (k = 1; k < {nc}; ++k) {{ if (o[k] > o[best]) best = k; }}\n"
            f"    if (out != 0) {{ for (k = 0; k < {nc}; ++k) out[k] = (float)o[k]; }}\n"
            f"    return best;\n"
        )
    c_text = (
        f"/* {name}.c - m2cgen output wrapped by tinycodegen. Not exact: see README. */\n"
        f'#include "{name}.h"\n{renames}\n{code}\n\n'
        f"static int32_t {name}_run(const float *x, float *out)\n{{\n"
        f"    double in[{nf}];\n    int32_t i;\n"
        f"    for (i = 0; i < {nf}; ++i) in[i] = (double)x[i];\n{body}}}\n\n"
        f"int32_t {name}_predict(const float *x)\n{{\n    return {name}_run(x, 0);\n}}\n\n"
        f"void {name}_predict_proba(const float *x, float *out)\n{{\n"
        f"    (void){name}_run(x, out);\n}}\n"
    )
    files = {
        f"{name}.h": header(meta, name, "m2cgen", doc=" * m2cgen's own rules, unchecked."),
        f"{name}.c": c_text,
    }
    return CSource(name=name, files=files, n_features=nf, n_classes=nc, backend="m2cgen",
                   strict=False)
