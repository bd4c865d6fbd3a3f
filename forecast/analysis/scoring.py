"""Scoring probability forecasts against outcomes: numpy only, no I/O.

* Brier score: mean (f - y)^2, 0 is perfect, 0.25 is what a constant 50% earns.
* Log score: mean ln P(realised outcome), 0 is perfect, ln 0.5 = -0.693 for a constant 50%
  (higher is better). A forecast of exactly 0 or 1 that turns out wrong would score -inf, so
  probabilities are clipped to [LOG_FLOOR, 1 - LOG_FLOOR] first, and the report says so.
* Murphy decomposition over probability bins: Brier = reliability - resolution + uncertainty
  + within_bin, where `within_bin` is the (usually tiny) part that comes from forecasts in one
  bin not being identical (Stephenson et al. 2008); it is reported, so the identity is exact.
* Calibration table: per bin, the count, the mean forecast, the observed frequency and the
  binomial standard error the observed frequency would have if the forecasts were calibrated.

Questions with more than two outcomes (README, "Questions with more than two outcomes"): a
forecast is a probability per state. Its Brier score is half the sum over states of
(p_s - o_s)^2 (on a yes/no question exactly (p - o)^2), its log score ln p(outcome), and on
ordered states the ranked probability score, the mean over the k - 1 cut points of the squared
difference between the forecast's and the outcome's cumulative probabilities (0 is perfect; on
two states it is the Brier score). The calibration table takes each (question, state)
probability as a forecast that the state happens (yes/no questions: the yes state alone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_FLOOR = 1e-6
DEFAULT_BINS = 10


def _arrays(forecasts, outcomes) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(forecasts, dtype=float).ravel()
    y = np.asarray(outcomes, dtype=float).ravel()
    if f.shape != y.shape:
        raise ValueError(f"{f.size} forecasts but {y.size} outcomes")
    if np.any((f < 0) | (f > 1)) or np.any(np.isnan(f)):
        raise ValueError("forecasts must be probabilities in [0, 1]")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("outcomes must be 0 or 1")
    return f, y


def brier_score(forecasts, outcomes) -> float:
    f, y = _arrays(forecasts, outcomes)
    return float(np.mean((f - y) ** 2)) if f.size else float("nan")


def log_score(forecasts, outcomes, floor: float = LOG_FLOOR) -> float:
    """Mean natural log of the probability given to what happened (higher is better)."""
    f, y = _arrays(forecasts, outcomes)
    if not f.size:
        return float("nan")
    p = np.clip(f, floor, 1 - floor)
    return float(np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def bin_edges(n_bins: int = DEFAULT_BINS) -> np.ndarray:
    return np.arange(n_bins + 1) / n_bins     # k / n: 0.3 is exactly the literal 0.3


def bin_index(forecasts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin k holds edges[k] <= f < edges[k+1]; the last bin also holds f = 1."""
    return np.clip(np.searchsorted(edges, forecasts, side="right") - 1, 0, len(edges) - 2)


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_forecast: float      # nan when empty
    observed: float           # observed frequency of yes; nan when empty
    se: float                 # sqrt(sum f(1-f)) / n: its binomial SE if calibrated

    @property
    def z(self) -> float:
        """(observed - mean forecast) in standard errors; nan when it cannot be computed."""
        if self.count == 0 or self.se == 0:
            return float("nan")
        return (self.observed - self.mean_forecast) / self.se


@dataclass(frozen=True)
class Decomposition:
    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float
    base_rate: float


def calibration_bins(forecasts, outcomes, n_bins: int = DEFAULT_BINS) -> list[CalibrationBin]:
    f, y = _arrays(forecasts, outcomes)
    edges = bin_edges(n_bins)
    index = bin_index(f, edges)
    bins = []
    for k in range(n_bins):
        members = index == k
        n = int(members.sum())
        if n:
            fk, yk = f[members], y[members]
            bins.append(CalibrationBin(float(edges[k]), float(edges[k + 1]), n, float(fk.mean()),
                                       float(yk.mean()), float(np.sqrt(np.sum(fk * (1 - fk))) / n)))
        else:
            bins.append(CalibrationBin(float(edges[k]), float(edges[k + 1]), 0, float("nan"),
                                       float("nan"), float("nan")))
    return bins


def murphy_decomposition(forecasts, outcomes, n_bins: int = DEFAULT_BINS) -> Decomposition:
    """Reliability (lower is better), resolution (higher is better) and uncertainty of the
    Brier score over `n_bins` equal-width probability bins."""
    f, y = _arrays(forecasts, outcomes)
    nan = float("nan")
    if not f.size:
        return Decomposition(nan, nan, nan, nan, nan, nan)
    base = float(y.mean())
    reliability = resolution = 0.0
    for b in calibration_bins(f, y, n_bins):
        if b.count:
            reliability += b.count * (b.mean_forecast - b.observed) ** 2
            resolution += b.count * (b.observed - base) ** 2
    reliability /= f.size
    resolution /= f.size
    uncertainty = base * (1 - base)
    brier = brier_score(f, y)
    return Decomposition(brier, reliability, resolution, uncertainty,
                         brier - (reliability - resolution + uncertainty), base)


@dataclass(frozen=True)
class ScoreSummary:
    count: int
    brier: float
    log_score: float
    decomposition: Decomposition
    bins: list[CalibrationBin]
    rps: float = float("nan")          # mean ranked probability score of the ordered questions


def score(forecasts, outcomes, n_bins: int = DEFAULT_BINS) -> ScoreSummary:
    f, y = _arrays(forecasts, outcomes)
    return ScoreSummary(int(f.size), brier_score(f, y), log_score(f, y),
                        murphy_decomposition(f, y, n_bins), calibration_bins(f, y, n_bins))


def reliability_under_calibration(forecasts, n_bins: int = DEFAULT_BINS, n_sims: int = 2000,
                                  rng: np.random.Generator | None = None) -> np.ndarray:
    """The reliability term's sampling distribution if these forecasts were perfectly
    calibrated (outcomes drawn as Bernoulli(f)): what "small" means for this many forecasts."""
    f = np.asarray(forecasts, dtype=float).ravel()
    rng = rng or np.random.default_rng(0)
    edges = bin_edges(n_bins)
    index = bin_index(f, edges)
    counts = np.bincount(index, minlength=n_bins)
    mean_f = np.bincount(index, weights=f, minlength=n_bins) / np.maximum(counts, 1)
    y = rng.random((n_sims, f.size)) < f
    observed = np.stack([np.bincount(index, weights=row, minlength=n_bins) for row in y])
    observed = observed / np.maximum(counts, 1)
    return ((observed - mean_f) ** 2 * counts).sum(axis=1) / f.size


def _distribution(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=float).ravel()
    if p.size < 2 or np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)) or abs(p.sum() - 1) > 1e-4:
        raise ValueError("a forecast over states must be probabilities summing to 1")
    return p


def _outcome_vector(p: np.ndarray, outcome: int) -> np.ndarray:
    if not 0 <= outcome < p.size:
        raise ValueError(f"outcome {outcome} is not one of the {p.size} states")
    return (np.arange(p.size) == outcome).astype(float)


def categorical_brier(probs, outcome: int) -> float:
    """Half the sum over states of (p_s - o_s)^2; `outcome` is the index of the state that
    happened."""
    p = _distribution(probs)
    return float(0.5 * np.sum((p - _outcome_vector(p, outcome)) ** 2))


def ranked_probability_score(probs, outcome: int) -> float:
    """Mean over the k - 1 cut points of (F_j - O_j)^2, F and O the cumulative forecast and
    outcome over ordered states."""
    p = _distribution(probs)
    o = _outcome_vector(p, outcome)
    return float(np.mean((np.cumsum(p)[:-1] - np.cumsum(o)[:-1]) ** 2))


def state_log_score(probs, outcome: int, floor: float = LOG_FLOOR) -> float:
    p = _distribution(probs)
    _outcome_vector(p, outcome)
    return float(np.log(np.clip(p[outcome], floor, 1 - floor)))


def pair_scores(forecasts, outcomes, ordered=None, floor: float = LOG_FLOOR
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (forecast, question) pair its Brier, log and ranked probability scores (RPS nan
    where the states are not ordered). A yes/no pair is P(yes) and 0/1, scored exactly as
    `brier_score` and `log_score` score it; any other a probability per state and the index
    of the state that happened."""
    n = len(forecasts)
    if len(outcomes) != n:
        raise ValueError(f"{n} forecasts but {len(outcomes)} outcomes")
    ordered = [False] * n if ordered is None else list(ordered)
    brier, logs, rps = np.empty(n), np.empty(n), np.full(n, np.nan)
    binary = [i for i in range(n) if np.ndim(forecasts[i]) == 0]
    if binary:
        f, y = _arrays([forecasts[i] for i in binary], [outcomes[i] for i in binary])
        brier[binary] = (f - y) ** 2
        p = np.clip(f, floor, 1 - floor)
        logs[binary] = np.where(y == 1, np.log(p), np.log1p(-p))
        rps[[i for i in binary if ordered[i]]] = brier[[i for i in binary if ordered[i]]]
    for i in range(n):
        if np.ndim(forecasts[i]):
            brier[i] = categorical_brier(forecasts[i], int(outcomes[i]))
            logs[i] = state_log_score(forecasts[i], int(outcomes[i]), floor)
            if ordered[i]:
                rps[i] = ranked_probability_score(forecasts[i], int(outcomes[i]))
    return brier, logs, rps


def state_forecasts(forecasts, outcomes) -> tuple[np.ndarray, np.ndarray]:
    """The calibration table's forecasts: a yes/no pair's P(yes) and its outcome; every state
    of any other pair, with 1 where it happened."""
    f: list[float] = []
    y: list[float] = []
    for p, o in zip(forecasts, outcomes, strict=True):
        if np.ndim(p) == 0:
            f.append(float(p))
            y.append(float(o))
        else:
            probs = _distribution(p)
            f.extend(float(x) for x in probs)
            y.extend(float(x) for x in _outcome_vector(probs, int(o)))
    return np.asarray(f, dtype=float), np.asarray(y, dtype=float)


def score_pairs(forecasts, outcomes, ordered=None, n_bins: int = DEFAULT_BINS) -> ScoreSummary:
    """`score` over pairs of any number of states (see `pair_scores`): the Brier, log and
    ranked probability scores averaged over the pairs, the decomposition and calibration
    table over the (question, state) forecasts. On yes/no pairs alone, exactly `score`."""
    brier, logs, rps = pair_scores(forecasts, outcomes, ordered)
    f, y = state_forecasts(forecasts, outcomes)
    nan = float("nan")
    ranked = rps[~np.isnan(rps)]
    return ScoreSummary(len(brier), float(np.mean(brier)) if len(brier) else nan,
                        float(np.mean(logs)) if len(logs) else nan,
                        murphy_decomposition(f, y, n_bins), calibration_bins(f, y, n_bins),
                        float(np.mean(ranked)) if len(ranked) else nan)
