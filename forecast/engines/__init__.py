"""Inference engines: `exact` (numpy only, the independent reference) and `nuts` (PyMC)."""
