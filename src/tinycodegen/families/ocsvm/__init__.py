"""The ocsvm family (see family.py)."""
