"""``--format platformio``: a PlatformIO library (``library.json`` beside ``src/``).

Use it from platformio.ini (``lib_deps = file://path/to/NAME``) or drop it into ``lib/``.
"""

from __future__ import annotations

from tinycodegen.packaging import PACKAGE_VERSION, SRC, URL, PackageInfo, json_string

KEYWORDS = ("machine-learning", "scikit-learn", "tinycodegen", "classifier")


def library_json(info: PackageInfo) -> str:
    keywords = ", ".join(json_string(k) for k in KEYWORDS)
    return f"""\
{{
  "name": {json_string(info.name)},
  "version": {json_string(PACKAGE_VERSION)},
  "description": {json_string(info.description())},
  "keywords": [{keywords}],
  "authors": [{{"name": "tinycodegen", "maintainer": true}}],
  "homepage": {json_string(URL)},
  "frameworks": "*",
  "platforms": "*",
  "headers": {json_string(info.name + ".h")},
  "build": {{
    "srcDir": {json_string(SRC)},
    "includeDir": {json_string(SRC)},
    "flags": ["-fno-fast-math"]
  }}
}}
"""


def files(info: PackageInfo) -> dict[str, str]:
    out = info.model_files()
    out["library.json"] = library_json(info)
    return out
