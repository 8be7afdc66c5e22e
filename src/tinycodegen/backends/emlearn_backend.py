"""``--backend emlearn``: emlearn's C (float inputs), wrapped in tinycodegen's contract."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tinycodegen.backends import register_wrapper
from tinycodegen.emit.common import CSource, header
from tinycodegen.errors import TinycodegenError
from tinycodegen.loaders import load_ir


def import_emlearn() -> Any:
    """Import emlearn without letting it change numpy's error settings for the whole process."""
    saved = np.geterr()
    try:
        import emlearn
    finally:
        np.seterr(**saved)
    return emlearn


@register_wrapper("emlearn")
def wrap_emlearn(model: Any, name: str) -> CSource:
    emlearn = import_emlearn()
    saved = np.geterr()
    inner = f"{name}_eml"
    try:
        cmodel = emlearn.convert(model, method="inline", dtype="float")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{inner}.h"
            cmodel.save(file=str(path), name=inner)
            generated = path.read_text()
    except Exception as exc:
        raise TinycodegenError(
            f"emlearn cannot convert {type(model).__name__}: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        np.seterr(**saved)
    meta = load_ir(model).meta
    nf, nc = meta.n_features, meta.n_classes
    c_text = (
        f"/* {name}.c - emlearn {getattr(emlearn, '__version__', '?')} output (float inputs), "
        "wrapped by tinycodegen. Not exact: see README. */\n"
        f'#include "{name}.h"\n#include "{inner}.h"\n\n'
        f"int32_t {name}_predict(const float *x)\n{{\n    return {inner}_predict(x, {nf});\n}}\n\n"
        f"void {name}_predict_proba(const float *x, float *out)\n{{\n"
        f"    {inner}_predict_proba(x, {nf}, out, {nc});\n}}\n"
    )
    files = {
        f"{name}.h": header(meta, name, "emlearn", doc=" * emlearn's own rules, unchecked."),
        f"{name}.c": c_text,
        f"{inner}.h": generated,
    }
    return CSource(name=name, files=files, n_features=nf, n_classes=nc, backend="emlearn",
                   strict=False)
