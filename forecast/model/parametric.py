"""Parametric CPTs: k + 1 uncertain numbers instead of 2^k table rows (README, "Many
parents, few numbers"). numpy only.

A node with `cpt = "noisy_or"` or `"log_odds"` has a base b (P(yes) when no parent is yes) and
one number per parent. Configuration c (bit j = state of parent j) gets

* noisy_or:  P(yes | c) = 1 - (1 - b) * prod_{j yes in c} (1 - c_j)
  (c_j: the probability that parent j, being yes, makes the node yes by itself);
* log_odds:  logit P(yes | c) = logit b + sum_{j yes in c} (logit p_j - logit b)
  (p_j: P(yes) when parent j alone is yes; p_j below b is an inhibitor).

Both are linear maps in a transformed space: log(1 - P) is linear in log(1 - numbers) for
noisy_or, logit P linear in logit(numbers) for log_odds. `Parameters` holds those maps for a
whole network (table nodes map each parameter to its own entry), so numpy here, the NUTS
density (`forecast.inference.density`) and the PyMC model (`forecast.inference.pymc_model`)
compute entries from parameters by the same matrices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

TABLE, NOISY_OR, LOG_ODDS = "table", "noisy_or", "log_odds"


def configs(k: int) -> np.ndarray:
    """(2^k, k) 0/1: row c holds the parent states of configuration c (bit j = parent j)."""
    return ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1).astype(float)


def coefficients(form: str, k: int) -> np.ndarray:
    """(2^k, k + 1): the linear map from [base, number_1..number_k] (transformed) to each
    configuration's entry (transformed): log(1 - .) for noisy_or, logit for log_odds."""
    states = configs(k)
    if form == NOISY_OR:
        return np.hstack([np.ones((2**k, 1)), states])
    if form == LOG_ODDS:
        return np.hstack([1.0 - states.sum(axis=1, keepdims=True), states])
    raise ValueError(f"not a parametric CPT form: {form!r}")


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def cpt_table(form: str, base, numbers) -> np.ndarray:
    """The full CPT, P(yes | configuration c) for c = 0..2^k - 1, from the base (...,) and the
    parents' numbers (..., k): shape (..., 2^k)."""
    base = np.asarray(base, dtype=float)
    numbers = np.asarray(numbers, dtype=float)
    k = numbers.shape[-1]
    params = np.concatenate([base[..., None], numbers], axis=-1)
    coef = coefficients(form, k)
    if form == NOISY_OR:
        return _inside(-np.expm1(np.log1p(-params) @ coef.T))
    return _inside(1.0 / (1.0 + np.exp(-(_logit(params) @ coef.T))))


def _inside(p: np.ndarray) -> np.ndarray:
    """Entries kept strictly inside (0, 1): a noisy-OR of causes near 1 (or a log-odds sum far
    from 0) rounds to exactly 1.0 or 0.0 in floating point, which would turn into a hard zero
    that the evidence may contradict."""
    return np.clip(p, np.finfo(float).tiny, np.nextafter(1.0, 0.0))


@dataclass(frozen=True)
class Parameters:
    """A network's uncertain numbers (P of them) and how they make its K CPT entries.

    Parameter i belongs to node `node[i]`; `slot[i]` is its parent configuration in a table
    node, or -1 for a parametric node's base and j for its parent j. Table entries copy one
    parameter; noisy_or entries are 1 - exp(or_matrix @ log(1 - params)); log_odds entries are
    expit(lo_matrix @ logit(params)). For a table-only network, parameters are the entries."""

    node: np.ndarray            # (P,)
    slot: np.ndarray            # (P,)
    alpha: np.ndarray           # (P,) nan where fixed
    beta: np.ndarray            # (P,)
    fixed: np.ndarray           # (P,) nan where a Beta
    n_entries: int
    table_entry: np.ndarray     # (Kt,) entries that copy a parameter ...
    table_param: np.ndarray     # (Kt,) ... and which one
    or_entry: np.ndarray        # (Ko,) noisy_or entries
    or_matrix: np.ndarray       # (Ko, P)
    lo_entry: np.ndarray        # (Kl,) log_odds entries
    lo_matrix: np.ndarray       # (Kl, P)

    @property
    def n_params(self) -> int:
        return len(self.node)

    @property
    def free(self) -> np.ndarray:
        """Parameters with a Beta prior (sampled)."""
        return np.flatnonzero(np.isnan(self.fixed))

    @property
    def prior_means(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            means = self.alpha / (self.alpha + self.beta)
        return np.where(np.isnan(self.fixed), means, self.fixed)

    @cached_property
    def identity(self) -> bool:
        """Every entry is its own parameter (a table-only network)."""
        return (len(self.or_entry) == 0 and len(self.lo_entry) == 0
                and np.array_equal(self.table_entry, np.arange(self.n_entries))
                and np.array_equal(self.table_param, np.arange(self.n_params)))

    def theta(self, params) -> np.ndarray:
        """CPT entries (..., K) from parameters (..., P), each strictly inside (0, 1) when the
        parameters are."""
        params = np.asarray(params, dtype=float)
        out = np.empty(params.shape[:-1] + (self.n_entries,))
        out[..., self.table_entry] = params[..., self.table_param]
        if len(self.or_entry):
            out[..., self.or_entry] = _inside(-np.expm1(np.log1p(-params) @ self.or_matrix.T))
        if len(self.lo_entry):
            z = _logit(params) @ self.lo_matrix.T
            out[..., self.lo_entry] = _inside(1.0 / (1.0 + np.exp(-z)))
        return out

    def full(self, free_draws: np.ndarray) -> np.ndarray:
        """Parameters (D, P) from draws of the free ones (D, len(free)), constants filled in."""
        free_draws = np.asarray(free_draws, dtype=float)
        out = np.broadcast_to(self.fixed, (len(free_draws), self.n_params)).copy()
        out[:, self.free] = free_draws
        return out

    def draw_prior(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """(n_draws, P) iid draws from the priors, strictly inside (0, 1)."""
        free = self.free
        draws = rng.beta(self.alpha[free], self.beta[free], size=(n_draws, len(free)))
        tiny, top = np.finfo(float).tiny, 1.0 - np.finfo(float).epsneg
        return self.full(np.clip(draws, tiny, top))


def build_parameters(cpt: tuple[str, ...], parents: tuple[tuple[int, ...], ...],
                     node_priors: list[list[tuple[float, float, float]]]) -> Parameters:
    """Parameters of a network: `cpt[v]` the form of node v, `node_priors[v]` its priors as
    (alpha, beta, fixed) triples (nan where absent): 2^k of them for a table node, k + 1
    (base first) for a parametric one. Entries are numbered node by node, configuration c of
    node v at (its first entry) + c, as in `Network`."""
    node, slot, alpha, beta, fixed = [], [], [], [], []
    table_entry, table_param, or_rows, lo_rows = [], [], [], []
    first_entry = 0
    for v, (form, pa) in enumerate(zip(cpt, parents, strict=True)):
        k = len(pa)
        first_param = len(node)
        for i, (a, b, f) in enumerate(node_priors[v]):
            node.append(v)
            slot.append(i if form == TABLE else i - 1)
            alpha.append(a)
            beta.append(b)
            fixed.append(f)
        if form == TABLE:
            table_entry.extend(range(first_entry, first_entry + 2**k))
            table_param.extend(range(first_param, first_param + 2**k))
        else:
            coef = coefficients(form, k)
            rows = or_rows if form == NOISY_OR else lo_rows
            for c in range(2**k):
                rows.append((first_entry + c, first_param, coef[c]))
        first_entry += 2**k
    n_params = len(node)

    def matrix(rows):
        entries = np.array([r[0] for r in rows], dtype=int)
        m = np.zeros((len(rows), n_params))
        for i, (_entry, start, coef) in enumerate(rows):
            m[i, start:start + len(coef)] = coef
        return entries, m

    or_entry, or_matrix = matrix(or_rows)
    lo_entry, lo_matrix = matrix(lo_rows)
    return Parameters(
        node=np.array(node, dtype=int), slot=np.array(slot, dtype=int),
        alpha=np.array(alpha, dtype=float), beta=np.array(beta, dtype=float),
        fixed=np.array(fixed, dtype=float), n_entries=first_entry,
        table_entry=np.array(table_entry, dtype=int), table_param=np.array(table_param, dtype=int),
        or_entry=or_entry, or_matrix=or_matrix, lo_entry=lo_entry, lo_matrix=lo_matrix)
