"""The envelope family (see family.py)."""
