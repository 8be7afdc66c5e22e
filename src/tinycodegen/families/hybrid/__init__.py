"""The hybrid family (see family.py)."""
