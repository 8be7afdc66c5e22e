"""The hand-written C runtime lives at the top of the repository (``c_runtime/``, where firmware
engineers look for it) and ships inside the package as ``tinycodegen.c_runtime``; everything
else is configured in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "tinycodegen.c_runtime"],
    package_dir={"": "src", "tinycodegen.c_runtime": "c_runtime"},
)
