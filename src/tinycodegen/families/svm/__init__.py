"""The svm family (see family.py)."""
