"""The report document's type: what `build_report` (analysis/document.py) returns, what every
renderer reads and what `report.json` (and `--format json`) holds, as `TypedDict`s.

The keys are a contract: docs/json.md fixes the JSON shape of report.json (keys are only ever
added, never renamed or removed) and shows and explains each field. The
document is built once, complete, and only read afterwards: nothing adds to it or changes it
after `build_report` returns (a caller that needs more makes a new dict, as `with_history` does).

Values are JSON values only (str, int, float, bool, None, lists and objects of them), so the
document is its own JSON: `render_json` is `json.dumps(document)`. `NotRequired[...]` marks the
keys that only some documents carry (a what-if's columns, the history of a written report).
tests/test_report_document.py checks real documents against these classes, key for key.

No `from __future__ import annotations` here: on Python 3.11 a TypedDict whose annotations are
strings counts `NotRequired["..."]` keys as required.

One module past 400 lines because the document is one type: its row types are read beside the
keys that hold them, as docs/json.md lists them.
"""

from typing import Literal, NotRequired, TypedDict

# What a question resolved as, or is conditioned on: "yes" or "no" on a yes/no question, the
# name of one of its states on a question of other outcomes.
Outcome = str
Role = Literal["driver", "consequence"]
CptForm = Literal["table", "noisy_or", "log_odds"]
Engine = Literal["exact", "nuts"]
AsOfBasis = Literal["replay", "resolution", "evidence", "scenario"]


class Diagnostics(TypedDict):
    """The sampler's diagnostics (`diagnostics`, and a what-if's `unconditional_diagnostics`):
    divergent transitions, the worst R-hat and smallest ESS (null where nothing is sampled) and
    the warnings in words. Keys fixed by docs/json.md."""

    divergences: int
    max_rhat: float | None
    min_ess: float | None
    warnings: list[str]


class SamplerInfo(TypedDict):
    """How the numbers were made (`sampler`): the draws, and on the exact engine the `method`
    in words, on NUTS `tune`, `chains`, `target_accept` and the `backend`. Part of the report
    whose JSON keys docs/json.md fixes (an open map)."""

    draws: int
    method: NotRequired[str]
    tune: NotRequired[int]
    chains: NotRequired[int]
    target_accept: NotRequired[float]
    backend: NotRequired[str]


class InfluenceRow(TypedDict):
    """One of a node's `top_evidence`: how far leaving the item out moves the node's mean
    (`effect_pp`, percentage points, positive when the item raised it; `effect_logodds`).
    Keys fixed by docs/json.md."""

    item_id: str
    cluster: str | None
    effect_pp: float
    effect_logodds: float


class MovedRow(TypedDict):
    """One of a node's `moved_most`: an item, or a whole cluster of items that restate one event,
    and how far leaving it out moves the node's mean (`effect_pp`, percentage points, positive
    when it raised it; `effect_logodds`). `kind` says which ("item" or "cluster"), `id` is the
    item or cluster id, `items` the item ids left out, `cluster` the item's cluster (a cluster's
    own id). Added beside `top_evidence` (items only), which keeps its shape."""

    kind: Literal["item", "cluster"]
    id: str
    items: list[str]
    cluster: str | None
    effect_pp: float
    effect_logodds: float


class StateForecast(TypedDict):
    """One state of a question (`nodes[].distribution[]`): its prior and posterior probability
    and credible interval. Keys fixed by docs/json.md."""

    state: str
    prior_mean: float
    mean: float
    interval: list[float]
    prior_interval: list[float]


class UnconditionalForecast(TypedDict):
    """A what-if node's `unconditional`: its forecast without the `given` conditions (these
    fields of the same node in the unconditional document). Keys fixed by docs/json.md."""

    mean: float | None                # null on a node whose states are not yes/no
    interval: list[float] | None
    exact_mean: float | None
    mcse: float | None
    term: str | None
    resolved: Outcome | None
    distribution: list[StateForecast]


class WhatifColumns(TypedDict):
    """What a what-if adds to each node (`nodes[]` of `forecast whatif --format json`): the
    condition on the node (`conditioned`, null when it is not one of `given`), its
    `unconditional` forecast, `change_pp`, the change of its mean in percentage points (null
    on a node whose states are not yes/no) and `change_pp_by_state`, each state's change.
    Keys fixed by docs/json.md."""

    conditioned: Outcome | None
    unconditional: UnconditionalForecast
    change_pp: float | None
    change_pp_by_state: dict[str, float]


class PriorRow(TypedDict):
    """One prior of a node (`nodes[].priors`): the parent states it is for (`when`; `cause` on a
    parametric CPT), its mean (P(yes); null on a node with more than two outcomes, whose
    `row_mean` lists the row over its states), its strength in pseudo-cases (null for a
    constant), and the analyst's rationale and reference class, so a reader can tell judgement
    from evidence."""

    when: dict[str, str]
    cause: str | None
    mean: float | None
    row_mean: list[float]
    strength: float | None
    rationale: str
    reference_class: str


class Confidence(TypedDict):
    """How far to trust one forecast, in words (`nodes[].confidence`): `level` ("high",
    "moderate", "low") and the `statement` giving the reasons (evidence grades, reference
    classes, interval)."""

    level: Literal["high", "moderate", "low"]
    statement: str


class ConditionalForecast(TypedDict):
    """A consequence's forecast if its main driver (the open driver that moves it most) resolved
    yes and if it resolved no (`nodes[].conditional`), with the driver's own forecast."""

    driver: str
    driver_p: float
    if_yes: float
    if_no: float


class Assumption(TypedDict):
    """One of the judgements the forecasts hang on most (`key_assumptions[]`): a CPT entry from
    the sensitivity, the consequence it moves most and how far (`low`, `high`, `swing_pp`, as in
    `sensitivity`), its prior's reasoning, and a `sentence` that says it in words."""

    node: str
    when: dict[str, Outcome]
    cause: str | None
    prior_mean: float
    entry_low: float
    entry_high: float
    target: str
    low: float
    high: float
    swing_pp: float
    sentence: str
    rationale: str
    reference_class: str
class AnalystState(TypedDict):
    """One analyst's forecast of one state of a question with more outcomes (`by_analyst`)."""

    state: str
    mean: float
    interval: list[float]


class Recalibrated(TypedDict):
    """A yes/no question's forecast through the recalibration (reports/recalibration.json)."""

    mean: float
    interval: list[float]


class DrivingView(TypedDict):
    """One analyst's number for a prior row, whether they gave it, and why."""

    mean: float | list[float]
    own: bool
    rationale: str


class DrivingPrior(TypedDict):
    """A prior row on which the analysts differ (`disagreement[].priors`)."""

    node: str
    when: str
    by_analyst: dict[str, DrivingView]


class Disagreement(TypedDict):
    """A question the team splits on (widest first), and the prior rows behind the split."""

    node: str
    label: str
    spread: float
    by_analyst: dict[str, float | list[AnalystState]]
    priors: list[DrivingPrior]


class RecalibrationBasis(TypedDict):
    """What the recalibrated forecasts are learned from (reports/recalibration.json)."""

    fitted_on: str
    n: int
    group: str
    raw_brier: float | None
    recalibrated_brier: float | None


class NodeReport(TypedDict):
    """One question of the report (`nodes[]`): its forecast beside its prior, the ICD 203 term,
    its resolution and the evidence that moved it most. A what-if adds `conditioned`,
    `unconditional` and `change_pp`. Keys fixed by docs/json.md."""

    id: str
    label: str
    role: Role
    question: str
    resolution_criteria: str
    deadline: str
    overdue: bool
    parents: list[str]
    prior_mean: float | None          # null on a node whose states are not yes/no
    prior_interval: list[float] | None
    mean: float | None
    interval: list[float] | None
    interval_prob: float
    mcse: float | None
    exact_mean: float | None
    cpt: CptForm
    cpt_text: str | None
    term: str | None
    resolved: str | None              # yes/no, or the state that happened
    top_evidence: list[InfluenceRow]
    moved_most: list[MovedRow]
    states: list[str]
    ordered: bool
    distribution: list[StateForecast]
    most_likely: str
    priors: list[PriorRow]
    confidence: Confidence
    conditional: ConditionalForecast | None
    conditioned: NotRequired[Outcome | None]
    unconditional: NotRequired[UnconditionalForecast]
    change_pp: NotRequired[float | None]
    change_pp_by_state: NotRequired[dict[str, float]]
    # with analysts' files (jobs/team.py): `mean` and `distribution` are the team's pool
    by_analyst: NotRequired[dict[str, float | list[AnalystState]]]
    spread: NotRequired[float]
    pool: NotRequired[Literal["log_odds"]]
    recalibrated: NotRequired[Recalibrated]


class EvidenceRow(TypedDict):
    """One row of the evidence log (`evidence[]`): an item as it bears on one node, with its
    grade, weight and likelihood ratio. Keys fixed by docs/json.md."""

    item_id: str
    node: str
    date: str
    source: str
    grade: str
    weight: float
    lr: float
    cluster: str | None
    summary: str
    url: str | None
    quote: str | None
    state: str | None            # the state the LR is for (null: yes, or a vector LR)
    lrs: list[float] | None      # a vector LR, one per state in the node's order


class ResolutionRow(TypedDict):
    """A recorded resolution (`resolutions[]`). Keys fixed by docs/json.md."""

    node: str
    outcome: Outcome
    date: str
    source: str


class AnalystValue(TypedDict):
    """One analyst's own value of watching a question (a team's `watch[].by_analyst`)."""

    value: float
    interval: NotRequired[list[float]]


class AnalystSwing(TypedDict):
    """One analyst's own sweep of a CPT number (a team's sensitivity rows' `by_analyst`):
    null quantiles where they fixed the number."""

    low: float
    high: float
    swing_pp: float
    entry_low: float | None
    entry_high: float | None


class WatchRow(TypedDict):
    """A question worth watching (`watch[]`, and `forecast watch --format json`): the value of
    resolving it next, per target, and the targets' forecasts if it resolved yes or no; with
    CPT draws (only `forecast watch`) the value's `interval` and `top_share`. Keys fixed by
    docs/json.md."""

    node: str
    value: float
    per_target: dict[str, float]
    interval: NotRequired[list[float]]
    top_share: NotRequired[float]
    p_yes: float | None                 # null on a question that is not yes/no
    if_yes: dict[str, float | dict[str, float]] | None    # a target's forecast: P(yes), or
    if_no: dict[str, float | dict[str, float]] | None     # {state: P} on one not yes/no
    distribution: NotRequired[dict[str, float]]           # scenarios with such questions
    if_state: NotRequired[dict[str, dict[str, float | dict[str, float]]]]
    by_analyst: NotRequired[dict[str, AnalystValue]]      # a team's: each analyst's own value


class SensitivityRow(TypedDict):
    """One CPT number a forecast hangs on (`sensitivity.targets[target][]`, and `forecast
    sensitivity --format json`): the target's forecast with the number at its prior's low and
    high quantile. Keys fixed by docs/json.md."""

    node: str
    when: dict[str, Outcome]
    entry_state: str                    # the state whose probability the number is
    low: float
    high: float
    swing_pp: float
    entry_low: float
    entry_high: float
    cpt: CptForm
    cause: str | None
    forecast: float
    state: NotRequired[str]             # a target that is not yes/no: its most likely state
    by_analyst: NotRequired[dict[str, AnalystSwing]]      # a team's: each analyst's own sweep


class Sensitivity(TypedDict):
    """`sensitivity`: the prior quantiles used and, per open consequence, its widest rows.
    Keys fixed by docs/json.md."""

    quantiles: list[float]
    targets: dict[str, list[SensitivityRow]]


class PageModel(TypedDict):
    """`whatif_page.model`: the numbers report.html needs to compute what-ifs itself (node ids,
    their states in engine order, parent indices, the elimination order, prior-mean CPT cells,
    evidence log-weights per state, conditions as state indices, and terms as [name, low,
    high]). Keys fixed by docs/json.md."""

    nodes: list[str]
    states: list[list[str]]
    parents: list[list[int]]
    order: list[int]
    cpt: list[list[float]]
    log_weights: list[list[float]]
    conditions: dict[str, int]
    terms: list[list[str | float]]
    team_cpt: NotRequired[list[list[list[float]]]]    # a team's: each analyst's `cpt`


class WhatifPage(TypedDict):
    """`whatif_page`: whether the page can compute what-ifs (`available`, else the `reason` in
    words), the `limit` (entries of the page's clique tables), and the `model`. Keys fixed by docs/json.md."""

    available: bool
    reason: str | None
    limit: int
    model: PageModel | None


class DecisionFields(TypedDict):
    """What the report adds for decisions (`report_decisions`): `watch`, `sensitivity`,
    `whatif_page`. Keys fixed by docs/json.md."""

    watch: list[WatchRow]
    sensitivity: Sensitivity
    whatif_page: WhatifPage


class HistoryState(TypedDict):
    """One state of a charted snapshot's question of more outcomes."""

    state: str
    mean: float
    interval: list[float] | None


class HistoryNode(TypedDict):
    """A node of a charted snapshot: its mean and interval (null when the line had none); a
    question of more outcomes has a null mean and interval and each state's in `distribution`.
    Keys fixed by docs/json.md."""

    id: str
    mean: float | None
    interval: list[float] | None
    distribution: NotRequired[list[HistoryState]]


class HistoryEntry(TypedDict):
    """One snapshot of history.jsonl as the report charts it (`history[]`). Keys fixed by
    docs/json.md."""

    as_of: str
    generated_at: str
    evidence_hash: str
    nodes: list[HistoryNode]


class HistoryFields(TypedDict):
    """`history` (the snapshots charted) and `history_skipped` (unreadable lines left out).
    Keys fixed by docs/json.md."""

    history: list[HistoryEntry]
    history_skipped: int


class ReportDocument(TypedDict):
    """The report document (report.json, `forecast report --format json`): one fit of a
    scenario with everything every renderer shows. A conditional forecast (`forecast whatif`)
    adds `given` and `unconditional_diagnostics`; a report made with its history adds `history`
    and `history_skipped`. Keys fixed by docs/json.md."""

    scenario: str
    title: str
    trigger: str
    as_of: str
    as_of_basis: AsOfBasis
    evaluated_on: str
    replay: bool
    generated_at: str
    model_version: str
    engine: Engine
    evidence_hash: str
    seed: int
    versions: dict[str, str]
    sampler: SamplerInfo
    diagnostics: Diagnostics
    warnings: list[str]
    overdue: list[str]
    terms: dict[str, list[float]]
    bottom_line: list[str]
    key_assumptions: list[Assumption]
    nodes: list[NodeReport]
    evidence: list[EvidenceRow]
    resolutions: list[ResolutionRow]
    watch: list[WatchRow]
    sensitivity: Sensitivity
    whatif_page: WhatifPage
    given: NotRequired[dict[str, Outcome]]
    unconditional_diagnostics: NotRequired[Diagnostics]
    history: NotRequired[list[HistoryEntry]]
    history_skipped: NotRequired[int]
    # several analysts (jobs/team.py), or one of them alone (`analyst`)
    analysts: NotRequired[list[str]]
    analyst_names: NotRequired[dict[str, str]]
    pool: NotRequired[Literal["log_odds"]]
    disagreement: NotRequired[list[Disagreement]]
    analyst: NotRequired[str]
    recalibration: NotRequired[RecalibrationBasis]
