"""The lof family (see family.py)."""
