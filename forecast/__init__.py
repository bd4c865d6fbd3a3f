"""forecast: Bayesian forecasting for policy and intelligence analysts."""

__version__ = "0.1.0"

# Bumped whenever the model's meaning changes (evidence rule, grading, engine), so that
# snapshots and caches made by an older model are never mistaken for current ones.
MODEL_VERSION = "1.0"

DEFAULT_SCENARIO = "turkey-peacekeeping"
DEFAULT_SEED = 20250306
