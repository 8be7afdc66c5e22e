"""``--backend emlearn``: emlearn's C (float inputs), wrapped in tinycodegen's contract.

Trees use emlearn's inline float code; MLPClassifier its "loadable" network code (the only one
with predict_proba), with the eml_*.h headers it needs shipped beside it. A Pipeline's
preprocessing runs in front (see wrapping.py), its double output rounded to float for emlearn.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.backends import register_wrapper
from tinycodegen.backends.wrapping import extra_decls, extra_files, input_code, split_model
from tinycodegen.core.csource import CSource, header
from tinycodegen.errors import TinycodegenError

# Without preprocessing emlearn reads x itself, as its users call it (no copy in the timing).
DIRECT = "    const float *in = x;\n"
NET_HEADERS = ("eml_net.h", "eml_common.h", "eml_net_common.h", "eml_log.h")


def import_emlearn() -> Any:
    """Import emlearn without letting it change numpy's error settings for the whole process."""
    saved = np.geterr()
    try:
        import emlearn
    finally:
        np.seterr(**saved)
    return emlearn


def local_includes(text: str) -> str:
    """``#include <eml_x.h>`` -> ``#include "eml_x.h"`` (headers ship beside the model)."""
    return re.sub(r"#include\s*<(eml_\w+\.h)>", r'#include "\1"', text)


def generate(emlearn: Any, estimator: Any, inner: str, net: bool) -> str:
    saved = np.geterr()
    try:
        if net:
            cmodel = emlearn.convert(estimator, method="loadable")
        else:
            cmodel = emlearn.convert(estimator, method="inline", dtype="float")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{inner}.h"
            cmodel.save(file=str(path), name=inner)
            return local_includes(path.read_text())
    except Exception as exc:
        raise TinycodegenError(
            f"emlearn cannot convert {type(estimator).__name__}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        np.seterr(**saved)


@register_wrapper("emlearn")
def wrap_emlearn(model: Any, name: str) -> CSource:
    emlearn = import_emlearn()
    split = split_model(model)
    net = split.ir.kind == "mlp"
    inner = f"{name}_eml"
    generated = generate(emlearn, split.estimator, inner, net)
    nz, nc = split.ir.meta.n_features, split.meta.n_classes
    transform, fill = input_code(split, name, "float")
    if net:
        proba = f"eml_net_predict_proba(&{inner}, in, {nz}, out, {nc})"
    else:
        proba = f"{inner}_predict_proba(in, {nz}, out, {nc})"
    c_text = (
        f"/* {name}.c - emlearn {getattr(emlearn, '__version__', '?')} output (float inputs), "
        "wrapped by tinycodegen: not exact (comparison backend). */\n"
        f'#include "{name}.h"\n#include "{inner}.h"\n'
        + ('#include "tcg_input.h"\n#include "tcg_preprocess.h"\n' if transform else "")
        + f"\n{transform}\n"
        f"static int32_t {name}_run(const float *x, float *out)\n{{\n"
        + (f"    float in[{nz}];\n    int32_t i;\n{fill}" if transform else DIRECT)
        + f"    if (out != 0) (void){proba};\n"
        f"    return {inner}_predict(in, {nz});\n}}\n\n"
        f"int32_t {name}_predict(const float *x)\n{{\n    return {name}_run(x, 0);\n}}\n\n"
        f"void {name}_predict_proba(const float *x, float *out)\n{{\n"
        f"    (void){name}_run(x, out);\n}}\n"
    )
    files = {
        f"{name}.h": header(split.meta, name, "emlearn", guarantee="none",
                            doc=" * emlearn's own rules, unchecked.",
                            decls=extra_decls(split, name)),
        f"{name}.c": c_text,
        f"{inner}.h": generated,
    }
    if net:
        root = Path(emlearn.includedir)
        files.update({h: local_includes((root / h).read_text()) for h in NET_HEADERS})
    files.update(extra_files(split))
    return CSource(name=name, files=files, n_features=split.meta.n_features, n_classes=nc,
                   backend="emlearn", strict=False, guarantee="none")
