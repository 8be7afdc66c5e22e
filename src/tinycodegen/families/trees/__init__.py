"""The trees family (see family.py)."""
