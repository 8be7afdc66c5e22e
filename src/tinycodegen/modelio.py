"""Reading model files: joblib/pickle (runs code from the file!) and skops (trusted types only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tinycodegen.errors import ModelFileError

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")

# Types a .skops file may contain. Everything else is refused: skops then names the type.
TRUSTED_PREFIXES = ("sklearn.", "numpy.")
# Libraries whose models unpickle only with the library installed: the extra that installs it.
OPTIONAL_LIBRARIES = {"xgboost": "boost", "lightgbm": "boost"}


def load_model_file(path: str | Path) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"model file {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".skops":
        model = _load_skops(p)
    elif suffix in PICKLE_SUFFIXES:
        model = _load_pickle(p)
    else:
        raise ModelFileError(
            f"model file {p}: unknown type {suffix or '(none)'}; use .joblib, .pkl or .skops"
        )
    if not hasattr(model, "fit"):
        raise ModelFileError(
            f"{p} holds a {type(model).__name__}, not a scikit-learn estimator"
        )
    if not hasattr(model, "predict"):  # e.g. LocalOutlierFactor(novelty=False)
        hint = (": fit it with novelty=True to predict new rows"
                if getattr(model, "novelty", None) is False else "")
        raise ModelFileError(f"{p} holds a {type(model).__name__} that cannot predict new "
                             f"rows{hint}")
    return model


def _load_pickle(p: Path) -> Any:
    import joblib

    try:
        return joblib.load(p)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top in OPTIONAL_LIBRARIES:
            raise ModelFileError(f"{p} holds a {top} model but {top} is not installed: "
                                 f'pip install "tinycodegen[{OPTIONAL_LIBRARIES[top]}]"') from None
        raise ModelFileError(f"{p} is not a readable model file ({type(exc).__name__}: "
                             f"{exc})") from None
    except Exception as exc:  # a corrupt pickle can raise nearly anything
        raise ModelFileError(
            f"{p} is not a readable model file ({type(exc).__name__}: {exc})"
        ) from None


def _load_skops(p: Path) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:
        raise ModelFileError(
            f"{p} is not a readable .skops file ({type(exc).__name__}: {exc})"
        ) from None
    refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelFileError(f"{p}: refusing untrusted types in .skops file: {', '.join(refused)}")
    try:
        return sio.load(p, trusted=untrusted)
    except Exception as exc:
        raise ModelFileError(
            f"{p} is not a readable .skops file ({type(exc).__name__}: {exc})"
        ) from None
