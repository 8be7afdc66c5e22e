"""The iforest family (see family.py)."""
