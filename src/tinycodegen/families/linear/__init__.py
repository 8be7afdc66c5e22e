"""The linear family (see family.py)."""
