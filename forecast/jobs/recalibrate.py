"""`forecast recalibrate`: learn from the track record how to correct the forecasts, per analyst
and for the team's pool (analysis/recalibration.py), check it on held-out questions, and write
reports/recalibration.json. The fit and each held-out fold are tasks (`forecast.parallel`), each
seeded from the command's seed and its index, so the file is the same wherever they ran."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..analysis.recalibration import (
    FOLDS,
    MIN_QUESTIONS,
    TEAM,
    Pair,
    brier,
    folds_of,
    logit,
    pairs_from_snapshots,
    recalibrate,
    summarise,
)
from ..errors import problem
from ..inference.recalibration_model import ENGINE, recalibration_draws
from ..io.atomic import atomic_write_text
from ..io.project import load_inputs, resolve_root, scenario_ids, scenario_paths
from ..io.recalibration import recalibration_path
from ..io.resolutions import read_snapshots
from ..parallel import IN_PROCESS, Progress, Where, task_seeds, tasks


@dataclass(frozen=True)
class FitSettings:
    """The sampler's budget: the fit that is written, and each held-out fold's (whose
    posterior means alone are used, so it needs fewer draws)."""

    draws: int = 500
    tune: int = 500
    chains: int = 2
    fold_draws: int = 250
    fold_tune: int = 250
    fold_chains: int = 1


def fit_settings(draws: int | None = None, tune: int | None = None) -> FitSettings:
    """The default budget with the written fit's draws and warm-up as asked (None: as is),
    each held-out fold taking half of them."""
    base = FitSettings()
    draws = base.draws if draws is None else draws
    tune = base.tune if tune is None else tune
    return FitSettings(draws=draws, tune=tune, chains=base.chains, fold_draws=max(draws // 2, 50),
                       fold_tune=max(tune // 2, 50), fold_chains=base.fold_chains)


@dataclass(frozen=True)
class Shared:
    """What every task shares: the pairs as arrays, the groups, and the sampler's budget."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray
    groups: tuple[str, ...]
    settings: FitSettings


def fit_task(shared: Shared, task: tuple[np.random.SeedSequence, np.ndarray, bool]) -> tuple:
    """One fit on the pairs `task[1]` marks (all of them, or every fold but one; `task[2]`:
    a held-out fold's budget): posterior draws (S, G) of a and b, and the diagnostics."""
    seed, train, fold = task
    s = shared.settings
    budget = (s.fold_draws, s.fold_tune, s.fold_chains) if fold else (s.draws, s.tune, s.chains)
    return recalibration_draws(shared.x[train], shared.y[train], shared.group[train],
                               len(shared.groups), int(seed.generate_state(1)[0]), *budget)


def collect_pairs(root: Path, backtests: bool = False) -> tuple[list[Pair], list[str]]:
    """Every resolved (group, yes/no question) pair in the histories under the root, each
    question once per group; with `backtests`, also the replayed forecasts (the team's pool and,
    on a scenario with analysts, each analyst's own) for questions the history does not already
    hold."""
    pairs: list[Pair] = []
    ids = scenario_ids(root)
    for scenario_id in ids:
        paths = scenario_paths(root, scenario_id)
        inputs = load_inputs(paths)
        snapshots, _skipped = read_snapshots(paths.history)
        pairs += pairs_from_snapshots(scenario_id, inputs.resolutions, snapshots)
    if backtests:
        from .backtest import _scoring_view, fit_replays, plan_backtest

        have = {(p.group, p.scenario, p.node) for p in pairs}
        for scenario_id in ids:
            planned = plan_backtest(scenario_paths(root, scenario_id))
            replayed = fit_replays([planned], 0)[0]
            extra = pairs_from_snapshots(scenario_id, planned.inputs.resolutions,
                                         [_scoring_view(s) for s in replayed])
            pairs += [p for p in extra if (p.group, p.scenario, p.node) not in have]
    return pairs, ids


def recalibration_document(pairs: list[Pair], seed: int, settings: FitSettings | None = None,
                           folds: int = FOLDS, where: Where = IN_PROCESS,
                           progress: Progress | None = None,
                           fitted_on: dt.date | None = None) -> dict:
    """The contract's document: per group (a, b) with 90% intervals and n, and the held-out
    check (k folds: each fold's pairs scored raw and through the fit made without them)."""
    settings = settings or FitSettings()
    questions = {p.question for p in pairs}
    if len(questions) < MIN_QUESTIONS:
        raise problem("reports/recalibration.json", None, None,
                      f"too few resolved yes/no questions to learn from ({len(questions)}; at least "
                      f"{MIN_QUESTIONS} needed): the forecasts stay as they are (the identity, "
                      "a = 0 and b = 1); record outcomes with `forecast resolve` and snapshots with "
                      "`forecast update`, or add --backtests; nothing written")
    groups = tuple(sorted({p.group for p in pairs}, key=lambda g: (g != TEAM, g)))
    x = logit([p.p for p in pairs])
    y = np.array([int(p.outcome) for p in pairs])
    group = np.array([groups.index(p.group) for p in pairs])
    fold, by = folds_of(pairs, folds)
    fold = np.array(fold)
    k = int(fold.max()) + 1
    masks = [np.ones(len(pairs), dtype=bool)] + [fold != f for f in range(k)]
    shared = Shared(x, y, group, groups, settings)
    with tasks(where) as runner:
        items = [(task_seed, mask, k > 0) for k, (task_seed, mask)
                 in enumerate(zip(task_seeds(seed, len(masks)), masks, strict=True))]
        fits = runner.map(fit_task, items, shared, progress)
    a_draws, b_draws, diagnostics = fits[0]
    counts = {g: int(np.sum(group == i)) for i, g in enumerate(groups)}
    raw, recal = np.empty(len(pairs)), np.empty(len(pairs))
    for f, (a_f, b_f, _d) in enumerate(fits[1:]):
        held = fold == f
        g = group[held]
        raw[held] = np.array([p.p for p in pairs])[held]
        recal[held] = recalibrate(raw[held], a_f.mean(axis=0)[g], b_f.mean(axis=0)[g])
    by_group = {}
    for i, g in enumerate(groups):
        mask = group == i
        by_group[g] = {"raw_brier": brier(raw[mask], y[mask]),
                       "recalibrated_brier": brier(recal[mask], y[mask])}
    return {
        "fitted_on": (fitted_on or dt.date.today()).isoformat(),
        "n": len(pairs),
        "questions": len(questions),
        "groups": summarise(list(groups), a_draws, b_draws, counts),
        "held_out": {"folds": k, "by": by, "n": len(pairs), "raw_brier": brier(raw, y),
                     "recalibrated_brier": brier(recal, y), "by_group": by_group},
        "seed": seed,
        "sampler": {"engine": ENGINE, "draws": settings.draws, "tune": settings.tune,
                    "chains": settings.chains, "fold_draws": settings.fold_draws,
                    "fold_tune": settings.fold_tune, "fold_chains": settings.fold_chains},
        "diagnostics": diagnostics,
    }


@dataclass
class RecalibrateResult:
    document: dict
    written: list[Path]


def run_recalibrate(root: Path | str | None, seed: int, backtests: bool = False,
                    settings: FitSettings | None = None, where: Where = IN_PROCESS,
                    progress: Progress | None = None, write: bool = True) -> RecalibrateResult:
    """Collect the track record under the root, fit, check, and write the document atomically."""
    root_dir = resolve_root(root)
    pairs, _ids = collect_pairs(root_dir, backtests)
    document = recalibration_document(pairs, seed, settings, where=where, progress=progress)
    path = recalibration_path(root_dir)
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(document, indent=2) + "\n")
    return RecalibrateResult(document, [path] if write else [])
