"""The Python face of forecast, for notebooks and scripts (docs/python.md).

`Project(root)` is a project root (priors/, evidence/, reports/), as sqlite-utils' `Database` is
a database file: the CLI and this module call the same job functions (forecast.jobs), so a
report, a what-if or an update made here is the one the CLI makes, and a mistake in an input file
raises the same `ForecastError` (file, row, field) that the CLI prints as `Error: ...`.

    >>> from forecast.api import Project
    >>> project = Project("path/to/root")
    >>> project.report().to_frame()            # node, role, question, prior, mean, low, high, ...

Results are typed (`Report`, `WhatIf`, `Update`, `Backtest`); tables come back as pandas
DataFrames.
Nothing here prints, and nothing imports PyMC unless the NUTS engine is asked for or needed.
One module past 400 lines because it is one face: `Project` and the typed results it returns are
read together, as docs/python.md presents them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import DEFAULT_SEED
from .errors import ForecastError, fail
from .inference.settings import ENGINES, SamplerSettings
from .io.evidence_rows import NewItem
from .io.history import read_history
from .io.project import ScenarioPaths, resolve_root, scenario_paths
from .io.replay import parse_as_of
from .jobs.evidence import EvidenceFilter, add_item, list_items
from .jobs.report import make_report
from .jobs.resolve import resolve as resolve_job
from .jobs.resolve import undo as undo_job
from .jobs.scenarios import list_scenarios
from .jobs.update import run_update
from .jobs.whatif import whatif_document
from .render import render_json
from .render.csv import render_csv, report_rows
from .render.evidence import item_record

if TYPE_CHECKING:
    import pandas as pd

    from .analysis.report_document import ReportDocument

__all__ = ["ENGINES", "Backtest", "ForecastError", "NodeForecast", "Project", "Report", "Update",
           "WhatIf"]

FRAME_COLUMNS = ("node", "role", "question", "prior", "mean", "low", "high", "term", "overdue",
                 "resolved", "state")
BACKTEST_COLUMNS = ("scenario", "node", "as_of", "forecast", "outcome", "resolved_on", "brier",
                    "rps", "evidence_hash")
HISTORY_COLUMNS = ("snapshot", "as_of", "generated_at", "engine", "evidence_hash", "node", "mean",
                   "low", "high", "resolved", "state")


def _pandas():
    import pandas as pd

    return pd


@dataclass(frozen=True)
class NodeForecast:
    """One question's forecast: the prior mean, the posterior mean and its interval."""

    node: str
    role: str
    question: str
    prior: float
    mean: float
    low: float
    high: float
    term: str
    overdue: bool
    resolved: str | None


@dataclass(frozen=True)
class Report:
    """A scenario's report: `document` is report.json's content (docs/json.md; its type:
    forecast/analysis/report_document.py)."""

    document: ReportDocument
    written: tuple[Path, ...] = ()

    @property
    def scenario(self) -> str:
        return self.document["scenario"]

    @property
    def engine(self) -> str:
        return self.document["engine"]

    @property
    def as_of(self) -> dt.date:
        return dt.date.fromisoformat(self.document["as_of"])

    @property
    def warnings(self) -> list[str]:
        return list(self.document.get("warnings") or [])

    @property
    def nodes(self) -> tuple[NodeForecast, ...]:
        return tuple(NodeForecast(**{**row, "overdue": bool(row.get("overdue", False))})
                     for row in report_rows(self.document))

    def node(self, node_id: str) -> NodeForecast:
        for forecast in self.nodes:
            if forecast.node == node_id:
                return forecast
        raise fail(self.scenario, None, "node", f"a node of {self.scenario} (one of "
                   f"{', '.join(sorted(n.node for n in self.nodes))})", node_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per yes/no question and one per (question, state) for a question of more
        outcomes: node, role, question, prior, mean, low, high, term, overdue, resolved (the
        columns of `forecast report --format csv`), then state ("yes" on a yes/no question,
        whose mean is P(yes)). A state's row carries that state's prior, mean and interval;
        term, overdue and resolved (the state that happened) are the question's."""
        rows = []
        for row, node in zip(report_rows(self.document), self.document["nodes"], strict=True):
            row["overdue"] = bool(row.get("overdue", False))
            if node["mean"] is not None:
                rows.append({**row, "state": "yes"})
                continue
            rows += [{**row, "prior": s["prior_mean"], "mean": s["mean"], "low": s["interval"][0],
                      "high": s["interval"][1], "state": s["state"]}
                     for s in node["distribution"]]
        return _pandas().DataFrame(rows, columns=list(FRAME_COLUMNS))

    def to_csv(self) -> str:
        """What `forecast report --format csv` prints (formula prefixes neutralised)."""
        return render_csv(self.document)

    def to_json(self) -> str:
        """What `forecast report --format json` prints."""
        return render_json(self.document)

    def _repr_html_(self) -> str:              # a notebook shows the table
        return self.to_frame()._repr_html_()


@dataclass(frozen=True)
class WhatIf:
    """Conditional forecasts (`forecast whatif`): `document` carries `given` and, per node, the
    unconditional forecast and the change in percentage points."""

    document: ReportDocument

    @property
    def given(self) -> dict[str, bool | str]:
        """{node: True/False} for yes/no questions, {node: state} for questions of other states."""
        binary = {n["id"]: n["mean"] is not None for n in self.document["nodes"]}
        return {node: (state == "yes") if binary[node] else state
                for node, state in self.document["given"].items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per yes/no node and one per state of a node of other states: node,
        conditioned (None, or the state given), mean, low, high (given the conditions),
        unconditional (the mean without them), change_pp and, last as in `Report.to_frame`,
        state ("yes" on a yes/no node)."""
        rows = []
        for n in self.document["nodes"]:
            if n["mean"] is not None:
                rows.append({"node": n["id"], "state": "yes", "conditioned": n.get("conditioned"),
                             "mean": n["mean"], "low": n["interval"][0], "high": n["interval"][1],
                             "unconditional": n["unconditional"]["mean"],
                             "change_pp": n["change_pp"]})
                continue
            then = {row["state"]: row["mean"] for row in n["unconditional"]["distribution"]}
            rows += [{"node": n["id"], "state": row["state"], "conditioned": n.get("conditioned"),
                      "mean": row["mean"], "low": row["interval"][0], "high": row["interval"][1],
                      "unconditional": then[row["state"]],
                      "change_pp": n["change_pp_by_state"][row["state"]]}
                     for row in n["distribution"]]
        return _pandas().DataFrame(rows, columns=["node", "conditioned", "mean", "low", "high",
                                                  "unconditional", "change_pp", "state"])


@dataclass(frozen=True)
class Update:
    """What `forecast update` did: whether a snapshot was appended (nothing is appended when
    nothing changed since the last one), how many snapshots the history holds, what changed and
    why (`changes`, as in `forecast update --format json`), and the new report."""

    appended: bool
    snapshots: int
    snapshot: dict
    changes: dict | None = None
    report: Report | None = None
    written: tuple[Path, ...] = field(default=())


@dataclass(frozen=True)
class Backtest:
    """A backtest (`forecast backtest`): `document` is backtest.json's content, or with `every`
    the pooled reports/backtest.json (docs/json.md); `written`, the files written."""

    document: dict
    written: tuple[Path, ...] = ()

    @property
    def score(self) -> dict:
        """Brier, log score, n and the rest of `forecast score`'s figures over the replays."""
        return self.document["score"]

    def to_frame(self) -> pd.DataFrame:
        """One row per scored forecast (a replay dated before its question resolved): scenario,
        node, as_of, forecast (P(yes), or the chance of the state that happened), outcome,
        resolved_on, brier, rps (on a question of more outcomes, else None), evidence_hash."""
        pd = _pandas()
        frame = pd.DataFrame(self.document["forecasts"], columns=list(BACKTEST_COLUMNS))
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return frame


class Project:
    """A project root: `Project(root)`; `None` means $FORECAST_ROOT, else the current directory.

    Every method takes `scenario` (default: the shipped turkey-peacekeeping). Methods that fit
    take `engine` ("auto", "exact" or "nuts"), `as_of` (a date or "YYYY-MM-DD": a replay that
    uses only the evidence and resolutions dated on or before it), `seed`, and `settings`
    (forecast.inference.settings.SamplerSettings for NUTS; progress bars off by default).
    """

    def __init__(self, root: str | Path | None = None):
        self.root = resolve_root(root)

    def __repr__(self) -> str:
        return f"Project({str(self.root)!r})"

    def paths(self, scenario: str | None = None) -> ScenarioPaths:
        return scenario_paths(self.root, scenario)

    # -- reading -------------------------------------------------------------------------------

    def scenarios(self, today: dt.date | None = None) -> pd.DataFrame:
        """One row per scenario under the root (as `forecast scenarios --format json`): id,
        title, nodes, evidence_items, evidence_rows, resolutions, overdue (a count on `today`),
        overdue_nodes, snapshots, last_snapshot, last_snapshot_generated_at, error."""
        rows = list_scenarios(self.root, today)["scenarios"]
        columns = ["id", "title", "nodes", "evidence_items", "evidence_rows", "resolutions",
                   "overdue", "overdue_nodes", "snapshots", "last_snapshot",
                   "last_snapshot_generated_at", "error"]
        return _pandas().DataFrame(rows, columns=columns)

    def evidence(self, scenario: str | None = None) -> pd.DataFrame:
        """The evidence file, one row per (item, node), as `forecast evidence list --format
        json`: item_id, node, date, source, reliability, credibility, lr (as written), lr_value,
        weight (the grading discount), cluster, summary, url, quote, line, state (the state the
        LR is for: None for yes on a yes/no node, or a vector LR) and lrs (a vector LR's numbers)."""
        pd = _pandas()
        records = [item_record(it) for it in list_items(self.paths(scenario), EvidenceFilter())]
        columns = ["item_id", "node", "date", "source", "reliability", "credibility", "lr",
                   "lr_value", "weight", "cluster", "summary", "url", "quote", "line", "state",
                   "lrs"]
        frame = pd.DataFrame(records, columns=columns)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    def history(self, scenario: str | None = None) -> pd.DataFrame:
        """The forecast history (reports/<id>/history.jsonl), one row per (snapshot, node) for
        yes/no questions and per (snapshot, node, state) for questions of more outcomes:
        snapshot (0, 1, ...), as_of, generated_at, engine, evidence_hash, node, mean, low,
        high, resolved (the state that happened), state ("yes" on a yes/no question). A
        damaged line raises ForecastError naming file and line."""
        pd = _pandas()
        paths = self.paths(scenario)
        rows = []
        for index, snap in enumerate(read_history(paths.history, paths.display(paths.history))):
            head = {"snapshot": index, "as_of": snap["as_of"],
                    "generated_at": snap.get("generated_at"), "engine": snap.get("engine"),
                    "evidence_hash": snap.get("evidence_hash")}
            for node in snap["nodes"]:
                common = {**head, "node": node["id"], "resolved": node.get("resolved")}
                if node.get("mean") is not None:
                    rows.append({**common, "mean": node["mean"], "low": node["interval"][0],
                                 "high": node["interval"][1], "state": "yes"})
                    continue
                rows += [{**common, "mean": s["mean"], "low": s["interval"][0],
                          "high": s["interval"][1], "state": s["state"]}
                         for s in node["distribution"]]
        frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return frame

    # -- fitting -------------------------------------------------------------------------------

    def report(self, scenario: str | None = None, engine: str = "auto",
               as_of: dt.date | str | None = None, seed: int = DEFAULT_SEED,
               settings: SamplerSettings | None = None, write: bool = False,
               strict: bool = False, use_cache: bool = True,
               analyst: str | None = None) -> Report:
        """Fit (or reuse the cached fit of the same inputs) and build the report, as `forecast
        report`. With `write=True` it also writes report.md/html/json, as the CLI does. With
        analysts' files the forecast is the team's pool; `analyst` reports one alone."""
        result = make_report(self.paths(scenario), seed, self._settings(settings), strict=strict,
                             write=write, use_cache=use_cache, as_of=_as_of(as_of),
                             engine=_engine(engine), analyst=analyst or None)
        return Report(result.document, tuple(result.written))

    def whatif(self, given: Mapping[str, bool | str] | Iterable[str],
               scenario: str | None = None, engine: str = "auto",
               as_of: dt.date | str | None = None, seed: int = DEFAULT_SEED,
               settings: SamplerSettings | None = None, use_cache: bool = True,
               analyst: str | None = None) -> WhatIf:
        """Conditional forecasts, as `forecast whatif`: `given` is {node: True/False, "yes"/"no",
        or a state's name} or ["node=yes", "attacks=sporadic", ...]. Writes no report files.
        With analysts' files, the team's pool of each analyst's; `analyst`: one alone."""
        if isinstance(given, Mapping):
            values = [f"{node}={_state(state)}" for node, state in given.items()]
        else:
            values = list(given)
        return WhatIf(whatif_document(self.paths(scenario), values, seed, self._settings(settings),
                                      engine=_engine(engine), use_cache=use_cache,
                                      as_of=_as_of(as_of), analyst=analyst or None))

    def update(self, scenario: str | None = None, engine: str = "auto",
               as_of: dt.date | str | None = None, seed: int = DEFAULT_SEED,
               settings: SamplerSettings | None = None, import_file: str | Path | None = None,
               strict: bool = False, use_cache: bool = True) -> Update:
        """As `forecast update`: refit if the inputs changed since the last snapshot, append a
        snapshot to the history, rewrite the reports, and say what changed and why."""
        result = run_update(self.paths(scenario), seed, self._settings(settings), strict=strict,
                            import_file=Path(import_file) if import_file is not None else None,
                            as_of=_as_of(as_of), engine=_engine(engine), use_cache=use_cache)
        report = Report(result.document, tuple(result.written)) if result.document else None
        return Update(result.appended, result.count, result.snapshot, result.changes, report,
                      tuple(result.written))

    def watch(self, targets: Iterable[str] = (), scenario: str | None = None,
              engine: str = "auto", as_of: dt.date | str | None = None, seed: int = DEFAULT_SEED,
              cpt_draws: int = 200, settings: SamplerSettings | None = None,
              use_cache: bool = True, analyst: str | None = None) -> pd.DataFrame:
        """As `forecast watch`: one row per open question, most worth watching first: node,
        value (expected reduction of the targets' summed Brier uncertainty if it resolved
        next), low and high (its 5%-95% over `cpt_draws` CPT draws), top_share, p_yes, and
        per_target / if_yes / if_no as {target: number}; with questions of more than two
        outcomes also distribution and if_state (docs/json.md). Targets: the open consequences,
        or `targets`. With analysts' files, the team's, and by_analyst ({analyst: {value,
        interval}}); `analyst`: one alone."""
        from .jobs.watch import watch_document

        document = watch_document(self.paths(scenario), list(targets), _as_of(as_of), seed,
                                  cpt_draws, _engine(engine), self._settings(settings), use_cache,
                                  analyst or None)
        rows = [{"node": w["node"], "value": w["value"], "low": w["interval"][0],
                 "high": w["interval"][1], "top_share": w["top_share"], "p_yes": w["p_yes"],
                 "per_target": w["per_target"], "if_yes": w["if_yes"], "if_no": w["if_no"],
                 **{k: w[k] for k in ("distribution", "if_state") if k in w}}
                for w in document["watch"]]
        columns = ["node", "value", "low", "high", "top_share", "p_yes", "per_target", "if_yes",
                   "if_no"]
        if any("if_state" in w for w in document["watch"]):
            columns += ["distribution", "if_state"]
        if document.get("analysts"):
            columns.append("by_analyst")
            for row, w in zip(rows, document["watch"], strict=True):
                row["by_analyst"] = w["by_analyst"]
        return _pandas().DataFrame(rows, columns=columns)

    def sensitivity(self, targets: Iterable[str] = (), scenario: str | None = None,
                    as_of: dt.date | str | None = None, top: int | None = None,
                    workers: int | None = None, scheduler: str | None = None,
                    analyst: str | None = None) -> pd.DataFrame:
        """As `forecast sensitivity`: one row per (target, CPT number), widest swing first
        within each target: target, node, when ({parent: state}), entry_state, low, high (the
        target's forecast with the number at its prior's 5% / 95% quantile), swing_pp,
        entry_low, entry_high, cpt, cause, forecast, and on scenarios with a target that is not
        yes/no, state (its most likely state, which low/high describe). `workers`/`scheduler`:
        as --workers/--scheduler. With analysts' files, the team's, and by_analyst (each
        analyst's own low, high, swing_pp, entry_low, entry_high); `analyst`: one alone."""
        from .jobs.sensitivity import sensitivity_document
        from .parallel import Where

        document = sensitivity_document(self.paths(scenario), list(targets), _as_of(as_of), top,
                                        Where(workers, scheduler), analyst=analyst or None)
        columns = ["target", "node", "when", "entry_state", "low", "high", "swing_pp", "entry_low",
                   "entry_high", "cpt", "cause", "forecast"]
        rows = [{"target": target, **row} for target, block in document["sensitivity"].items()
                for row in block]
        if any("state" in row for row in rows):
            columns.append("state")
        if document.get("analysts"):
            columns.append("by_analyst")
        return _pandas().DataFrame(rows, columns=columns)

    def backtest(self, scenario: str | None = None, every: bool = False, engine: str = "auto",
                 seed: int = DEFAULT_SEED, settings: SamplerSettings | None = None,
                 write: bool = False, workers: int | None = None, scheduler: str | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 analyst: str | None = None) -> Backtest:
        """As `forecast backtest`: replay the forecast at each distinct evidence date and score
        the replays against the resolutions. `every`: each scenario under the root and all
        pooled (--all); `write=True` writes backtest.json and backtest.html as the CLI does;
        `workers`/`scheduler`: as --workers/--scheduler; `progress(done, total)` is told of each
        finished replay. With analysts' files each replay is the team's pool and each analyst
        is scored too; `analyst`: one alone."""
        from .jobs.backtest import run_backtest  # loaded by backtests only
        from .parallel import Where

        result = run_backtest(self.root, scenario, every=every, seed=seed,
                              settings=self._settings(settings), engine=_engine(engine),
                              write=write, where=Where(workers, scheduler), progress=progress,
                              analyst=analyst or None)
        return Backtest(result.document, tuple(result.written))

    # -- writing -------------------------------------------------------------------------------

    def add_evidence(self, node: str | Iterable[str], lr: str | float | Iterable[str | float],
                     source: str, reliability: str, credibility: str | int, summary: str,
                     date: dt.date | str = "", cluster: str = "", url: str = "", quote: str = "",
                     item_id: str = "", scenario: str | None = None,
                     state: str | Iterable[str] = ()) -> list[str]:
        """Add one item, as `forecast evidence add` (under the file's lock, the whole file checked
        before it is replaced): `node` and `lr` are one each or equal-length lists; `lr` is a
        number or a name from the scenario's likelihood-ratio scale, or on a node with more
        states "1:2:4" (one number per state); `state`, none, one, or one per node, is the state
        each LR is for. Returns the item ids added (the next free id unless `item_id` is given)."""
        nodes = (node,) if isinstance(node, str) else tuple(node)
        lrs = tuple(str(x) for x in ((lr,) if isinstance(lr, str | int | float) else lr))
        states = (state,) if isinstance(state, str) else tuple(state)
        new = NewItem(nodes=nodes, lrs=lrs, source=source, reliability=reliability,
                      credibility=str(credibility), summary=summary, date=_date_text(date),
                      cluster=cluster, url=url, item_id=item_id, quote=quote, states=states)
        return list(add_item(self.paths(scenario), new).item_ids)

    def resolve(self, node: str, outcome: bool | str, date: dt.date | str, source: str,
                scenario: str | None = None) -> None:
        """Record a question's outcome, as `forecast resolve NODE yes|no --date --source`
        (True/False or "yes"/"no"; on a question of more outcomes, the state that happened)."""
        resolve_job(self.paths(scenario), node, _state(outcome), _date_text(date), source)

    def undo_resolution(self, node: str, date: dt.date | str | None = None,
                        reason: str = "retracted with forecast resolve --undo",
                        scenario: str | None = None) -> None:
        """Retract a question's resolution, as `forecast resolve --undo NODE` (an appended row:
        the file keeps its history); `date` defaults to today."""
        undo_job(self.paths(scenario), node, _date_text(date or dt.date.today()), reason)

    @staticmethod
    def _settings(settings: SamplerSettings | None) -> SamplerSettings:
        return settings if settings is not None else SamplerSettings(progress=False)


def _engine(engine: str) -> str:
    if engine not in ENGINES:
        raise fail("engine", None, None, f"one of {', '.join(sorted(ENGINES))}", engine)
    return engine


def _as_of(value: dt.date | str | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return parse_as_of(value)


def _date_text(value: dt.date | str) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value


def _state(value: bool | str) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
