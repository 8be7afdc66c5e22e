"""The files and CSource every outlier detector's writer returns (the detector contract:
predict, decision_function, score_samples; no predict_proba)."""

from __future__ import annotations

from tinycodegen.core.base import ModelMeta
from tinycodegen.core.csource import CSource, header
from tinycodegen.core.detect import EXTRA_FUNCTIONS, header_decls
from tinycodegen.core.runtime import runtime_files


def detector_source(meta: ModelMeta, name: str, c_text: str, *, doc: str, guarantee: str,
                    runtime: tuple[str, ...], decls: str = "", backend: str = "table",
                    files: dict[str, str] | None = None,
                    notes: tuple[str, ...] = ()) -> CSource:
    """``files``: other files of the model (a quantized member's), written first."""
    out = dict(files or {})
    out[f"{name}.h"] = header(meta, name, backend, guarantee=guarantee,
                              decls=header_decls(name) + decls, doc=doc, proba=False)
    out[f"{name}.c"] = c_text
    out.update(runtime_files(runtime))
    return CSource(name=name, files=out, n_features=meta.n_features, n_classes=2,
                   backend="table", extra_functions=EXTRA_FUNCTIONS, proba=False,
                   guarantee=guarantee, notes=notes)
