"""tinycodegen's hand-written C runtime (``tcg_*.h``): kept at the top of the repository and
shipped inside the package as ``tinycodegen.c_runtime`` (see setup.py)."""
