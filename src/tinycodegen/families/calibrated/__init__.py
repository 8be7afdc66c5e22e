"""The calibrated family (see family.py)."""
