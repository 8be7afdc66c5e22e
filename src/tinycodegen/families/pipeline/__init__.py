"""The pipeline family (see family.py)."""
