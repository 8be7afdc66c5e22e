"""The mlp family (see family.py)."""
