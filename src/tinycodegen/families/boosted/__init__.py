"""Boosted tree ensembles: sklearn GradientBoosting / HistGradientBoosting, XGBoost, LightGBM."""
