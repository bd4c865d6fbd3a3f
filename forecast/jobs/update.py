"""`forecast update`: refit with the current evidence, append a snapshot to the history, rewrite
the reports, and say what changed since the previous snapshot and which items moved it.

`what_changed` is pure (two snapshots in, a diff out); `run_update` is the job. A snapshot
carries, besides the forecasts, a short content hash of every item and the exact influence of
the items (and clusters) that moved each node most, so the diff can say which added, removed
or changed items account for each node's shift without refitting anything. What is stored per
item, and why, is in docs/history.md: the line must stay small when the evidence is large.
One module past 400 lines because the snapshot and the diff read each other's keys: what
`make_snapshot` stores is exactly what `what_changed` compares.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import MODEL_VERSION
from ..analysis.document import build_report, with_history
from ..analysis.report_document import ReportDocument
from ..analysis.summaries import Influence, pooled_influence, pooled_resolution_influence
from ..inference.problem import Problem
from ..inference.settings import SamplerSettings
from ..io.analysts import analyst_ids
from ..io.catalog import read_chart_history
from ..io.evidence import evidence_hash
from ..io.history import append_snapshot, read_history, read_shown
from ..io.project import ScenarioPaths, load_inputs
from ..model.network import Network
from ..model.spec import EvidenceItem, Inputs
from .budget import Work
from .report import (
    checked_problem,
    fitted_pair,
    per_analyst,
    prepare_fit,
    report_work,
    with_recalibration,
)
from .report_files import write_reports
from .team import team_decisions, team_digest, team_fit, views_of, with_team

ITEM_HASH_BYTES = 6           # 48 bits, 8 characters of base64url: enough to see a change
INFLUENCE_DIGITS = 2          # percentage points to 0.01, as `update` prints them
TOP_INFLUENCES = 25           # per node: the items (and clusters) that moved it most


def item_hashes(items: tuple[EvidenceItem, ...]) -> dict[str, str]:
    """Short content hash of each item's rows (same canonical form as the evidence hash: row
    order and whitespace do not count, any change of content does)."""
    rows: dict[str, list[EvidenceItem]] = defaultdict(list)
    for it in items:
        rows[it.item_id].append(it)
    return {item_id: _short_digest(evidence_hash(group).removeprefix("sha256:"))
            for item_id, group in sorted(rows.items())}


def _short_digest(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest[:2 * ITEM_HASH_BYTES])).decode()


def comparable_digest(digest: str) -> str:
    """An item hash as `item_hashes` writes it now; snapshots written before the compact format
    stored 16 hex digits of the same SHA-256, which convert exactly (so the first update after
    the change does not call every item changed)."""
    if len(digest) == 16 and all(c in "0123456789abcdef" for c in digest):
        return _short_digest(digest)
    return digest


def inputs_hash(inputs: Inputs, team: str = "") -> str:
    """Hash of everything else a fit depends on: the network, its priors, and the weights and
    LRs the scales give each row (a changed prior or grading table means a new forecast), and
    `team`, the analysts' files' digest (jobs/team.py `team_digest`; "" without analysts, so
    histories written before analysts existed stay current)."""
    scenario = inputs.scenario
    blob = {
        # a parametric node adds its form and causes (table nodes hash as they always have,
        # so existing histories stay current)
        "nodes": [[n.id, list(n.parents), [[p.alpha, p.beta, p.fixed] for p in n.priors]]
                  + ([n.cpt, [p.cause for p in n.priors]] if n.parametric else [])
                  # a node of other states adds them and its rows (yes/no nodes hash as before)
                  + ([list(n.states), [[list(p.dirichlet or ()), list(p.fixed_row or ())]
                                       for p in n.priors]] if not n.binary else [])
                  for n in scenario.nodes],
        "rows": sorted([it.item_id, it.node, it.lr, it.weight, it.cluster_key]
                       + ([it.state] if it.state else []) + ([list(it.lrs)] if it.lrs else [])
                       for it in inputs.evidence),
        **({"team": team} if team else {}),
    }
    text = json.dumps(blob, separators=(",", ":"), sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def top_effects(influences: list[Influence], node_ids: tuple[str, ...],
                limit: int = TOP_INFLUENCES) -> dict[str, dict[str, float]]:
    """{key: {node: effect in pp}} keeping, for each node, only the `limit` largest effects that
    are not zero at 0.01 pp. With few items nothing is lost; with thousands the line stays
    small, and the diff still names the items that moved each node most."""
    kept: dict[str, dict[str, float]] = defaultdict(dict)
    for v, node in enumerate(node_ids):
        effects = [(round(float(inf.effect_pp[v]), INFLUENCE_DIGITS), inf.key) for inf in influences]
        effects = [(effect, key) for effect, key in effects if effect != 0]
        for effect, key in sorted(effects, key=lambda e: (-abs(e[0]), e[1]))[:limit]:
            kept[key][node] = effect
    return {key: dict(kept[key]) for key in sorted(kept)}


def top_state_effects(influences: list[Influence], scenario, limit: int = TOP_INFLUENCES
                      ) -> dict[str, dict[str, dict[str, float]]]:
    """{key: {node: {state: effect in pp}}} for the nodes of more than two states: per
    (node, state), the `limit` largest effects that are not zero at 0.01 pp, as `top_effects`
    keeps them for a yes/no node's mean."""
    kept: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    offset = 0
    for node in scenario.nodes:
        if not node.binary:
            for state in node.states:
                column = offset + node.engine_index(state)
                effects = [(round(float(inf.state_effect_pp[column]), INFLUENCE_DIGITS), inf.key)
                           for inf in influences if inf.state_effect_pp is not None]
                effects = [(effect, key) for effect, key in effects if effect != 0]
                for effect, key in sorted(effects, key=lambda e: (-abs(e[0]), e[1]))[:limit]:
                    kept[key][node.id][state] = effect
        offset += node.card
    return {key: {node: dict(states) for node, states in kept[key].items()} for key in sorted(kept)}


def make_snapshot(document: ReportDocument, inputs: Inputs, influences: list[Influence],
                  resolution_effects: dict[str, np.ndarray] | None = None, team: str = "") -> dict:
    """One line of history.jsonl (keys are a contract for the history charts).
    `resolution_effects` (`resolution_influence`) is how far each resolution moves each node,
    so a later diff can say which nodes a new resolution moved, through the network. A team's
    snapshot (analysts' files) keeps each analyst's numbers beside the pool (`analysts`, per
    node `by_analyst`), so each analyst has a track record."""
    node_ids = inputs.scenario.node_ids
    clusters: dict[str, list[str]] = defaultdict(list)
    for it in inputs.evidence:
        if it.cluster and it.item_id not in clusters[it.cluster]:
            clusters[it.cluster].append(it.item_id)
    return {
        "scenario": document["scenario"],
        "as_of": document["as_of"],
        "generated_at": document["generated_at"],
        "model_version": document["model_version"],
        "evidence_hash": document["evidence_hash"],
        "inputs_hash": inputs_hash(inputs, team),
        **({"analysts": list(document["analysts"])} if document.get("analysts") else {}),
        "seed": document["seed"],
        "versions": document["versions"],
        "engine": document["engine"],
        "sampler": document.get("sampler", {}),
        "diagnostics": document["diagnostics"],
        "evaluated_on": document["evaluated_on"],
        "replay": document["replay"],
        "nodes": [
            {"id": node["id"], "mean": node["mean"], "interval": node["interval"],
             "interval_prob": node["interval_prob"], "resolved": node["resolved"],
             "exact_mean": node.get("exact_mean"), "mcse": node.get("mcse"),
             # a question with more outcomes keeps every state's forecast instead of a mean
             **({} if node["mean"] is not None else {"distribution": [
                 {"state": row["state"], "mean": row["mean"], "interval": row["interval"]}
                 for row in node["distribution"]]}),
             **({"by_analyst": copy.deepcopy(node["by_analyst"])} if "by_analyst" in node else {})}
            for node in document["nodes"]
        ],
        "items": item_hashes(inputs.evidence),
        "clusters": {name: sorted(ids) for name, ids in sorted(clusters.items())},
        "influence": top_effects([inf for inf in influences if inf.kind == "item"], node_ids),
        "cluster_influence": top_effects([inf for inf in influences if inf.kind == "cluster"],
                                         node_ids),
        "resolution_influence": {
            resolved: {node: round(float(effect), INFLUENCE_DIGITS)
                       for node, effect in zip(node_ids, effects, strict=True)
                       if round(float(effect), INFLUENCE_DIGITS) != 0}
            for resolved, effects in sorted((resolution_effects or {}).items())},
        # questions of more outcomes: what moved each state (yes/no scenarios add nothing)
        **({"state_influence": top_state_effects(
                [inf for inf in influences if inf.kind == "item"], inputs.scenario),
            "cluster_state_influence": top_state_effects(
                [inf for inf in influences if inf.kind == "cluster"], inputs.scenario)}
           if not all(n.binary for n in inputs.scenario.nodes) else {}),
    }


def snapshot_of(document: ReportDocument, inputs: Inputs, influences: list[Influence],
                views: Sequence[tuple[Network, Mapping[str, bool]]], team: str = "") -> dict:
    """`make_snapshot` with each resolution's influence worked out on the forecast of `views`
    (each analyst's network and conditions, pooled; one network: its own forecast)."""
    return make_snapshot(document, inputs, influences,
                         pooled_resolution_influence(views, inputs.evidence), team)


def is_current(snapshot: dict | None, inputs: Inputs, fingerprint: str) -> bool:
    """Nothing new: the last snapshot saw the same evidence, resolutions, priors and model."""
    return (snapshot is not None
            and snapshot["evidence_hash"] == inputs.evidence_hash
            and snapshot.get("inputs_hash") == fingerprint
            and snapshot["model_version"] == MODEL_VERSION)


def _cluster_effect(snapshot: dict, cluster: str, node: str) -> float:
    """How far leaving the whole cluster out would move `node` in this snapshot."""
    if cluster in snapshot.get("cluster_influence", {}):
        return snapshot["cluster_influence"][cluster].get(node, 0.0)
    members = snapshot.get("clusters", {}).get(cluster, [])
    return sum(snapshot["influence"].get(item, {}).get(node, 0.0) for item in members)


def _is_shared(cluster: str, *snapshots: dict) -> bool:
    """A cluster of several items (for one item, the item's own line says it all)."""
    return any(len(s.get("clusters", {}).get(cluster, [])) > 1 for s in snapshots)


def _members(cluster: str, *snapshots: dict) -> list[str]:
    """The items of a cluster in either snapshot: what leaving the whole cluster out leaves out."""
    return sorted({item for s in snapshots for item in s.get("clusters", {}).get(cluster, [])})


def _clusters_of(snapshot: dict) -> dict[str, str]:
    return {item: name for name, items in snapshot.get("clusters", {}).items() for item in items}


def what_changed(previous: dict | None, current: dict, min_effect_pp: float = 0.005) -> dict:
    """Per node, the shift in percentage points from `previous` to `current`, and the items
    and clusters that account for it: an added item by its influence now, a removed one by
    minus its influence then, a changed one by the difference. Items that restate a cluster
    may each show little; the cluster line shows what the cluster as a whole did."""
    after = {node["id"]: node for node in current["nodes"]}
    if previous is None:
        return {"first": True, "items": {"added": sorted(current["items"]), "removed": [],
                                         "changed": []},
                "resolutions": [],
                "nodes": [{"id": node_id, "before": None, "after": node["mean"], "shift_pp": None,
                           "resolved": node["resolved"], "causes": [], "clusters": [],
                           "resolutions": []}
                          | ({"states": _state_changes(None, node, None, current, {}, [],
                                                       min_effect_pp)}
                             if "distribution" in node else {})
                          for node_id, node in after.items()]}
    before = {node["id"]: node for node in previous["nodes"]}
    old, new = previous["items"], current["items"]
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(i for i in set(old) & set(new)
                     if comparable_digest(old[i]) != comparable_digest(new[i]))
    resolutions = resolution_changes(previous, current)
    cluster_now, cluster_then = _clusters_of(current), _clusters_of(previous)
    touched = sorted(c for c in ({cluster_now.get(i) for i in added + changed}
                                 | {cluster_then.get(i) for i in removed + changed})
                     if c and _is_shared(c, previous, current))
    nodes = []
    for node_id, node in after.items():
        causes = []
        for kind, ids in (("added", added), ("removed", removed), ("changed", changed)):
            for item in ids:
                effect_now = current["influence"].get(item, {}).get(node_id, 0.0)
                effect_then = previous["influence"].get(item, {}).get(node_id, 0.0)
                effect = {"added": effect_now, "removed": -effect_then,
                          "changed": effect_now - effect_then}[kind]
                causes.append({"item_id": item, "change": kind,
                               "cluster": cluster_now.get(item) or cluster_then.get(item),
                               "effect_pp": round(effect, 2)})
        clusters = [{"cluster": c, "items": _members(c, previous, current),
                     "effect_pp": round(_cluster_effect(current, c, node_id)
                                        - _cluster_effect(previous, c, node_id), 2)}
                    for c in touched]
        old_node = before.get(node_id)
        shift = (None if old_node is None or node["mean"] is None or old_node.get("mean") is None
                 else round(100 * (node["mean"] - old_node["mean"]), 2))
        moved_by = [{**r, "effect_pp": _resolution_effect(r, previous, current, node_id)}
                    for r in resolutions]
        nodes.append({
            "id": node_id,
            "before": None if old_node is None else old_node["mean"],
            "after": node["mean"],
            "shift_pp": shift,
            "exact_shift_pp": _exact_shift(old_node, node),
            "resolved": node["resolved"],
            "was_resolved": None if old_node is None else old_node["resolved"],
            "causes": sorted((c for c in causes if abs(c["effect_pp"]) >= min_effect_pp),
                             key=lambda c: -abs(c["effect_pp"])),
            "clusters": sorted((c for c in clusters if abs(c["effect_pp"]) >= min_effect_pp),
                               key=lambda c: -abs(c["effect_pp"])),
            "resolutions": sorted((r for r in moved_by if r["effect_pp"] is None
                                   or abs(r["effect_pp"]) >= min_effect_pp),
                                  key=lambda r: -abs(r["effect_pp"] or 0)),
        } | ({"states": _state_changes(old_node, node, previous, current,
                                       {"added": added, "removed": removed, "changed": changed},
                                       touched, min_effect_pp)}
             if "distribution" in node else {}))
    return {"first": False, "items": {"added": added, "removed": removed, "changed": changed},
            "resolutions": resolutions, "nodes": nodes}


def _state_effect(snapshot: dict | None, key: str, node: str, state: str,
                  field: str = "state_influence") -> float:
    if snapshot is None:
        return 0.0
    return snapshot.get(field, {}).get(key, {}).get(node, {}).get(state, 0.0)


def _state_changes(old_node: dict | None, node: dict, previous: dict | None, current: dict,
                   kinds: dict[str, list[str]], clusters: list[str],
                   min_effect_pp: float) -> list[dict]:
    """A question of more outcomes, state by state: its probability before and after, the
    shift in percentage points, and the items and whole clusters behind each state's shift
    (an added item by its influence on that state now, a removed one by minus its influence
    then, a changed one by the difference), largest first."""
    then = {row["state"]: row["mean"] for row in (old_node or {}).get("distribution") or []}
    cluster_now, cluster_then = _clusters_of(current), _clusters_of(previous or {})
    out = []
    for row in node["distribution"]:
        state = row["state"]
        causes = []
        for kind, ids in kinds.items():
            for item in ids:
                now = _state_effect(current, item, node["id"], state)
                was = _state_effect(previous, item, node["id"], state)
                effect = {"added": now, "removed": -was, "changed": now - was}[kind]
                causes.append({"item_id": item, "change": kind,
                               "cluster": cluster_now.get(item) or cluster_then.get(item),
                               "effect_pp": round(effect, 2)})
        moved = [{"cluster": c, "items": _members(c, previous or {}, current),
                  "effect_pp": round(_state_effect(current, c, node["id"], state,
                                                   "cluster_state_influence")
                                     - _state_effect(previous, c, node["id"], state,
                                                     "cluster_state_influence"), 2)}
                 for c in clusters]
        before = then.get(state)
        out.append({
            "state": state, "before": before, "after": row["mean"],
            "shift_pp": None if before is None else round(100 * (row["mean"] - before), 2),
            "causes": sorted((c for c in causes if abs(c["effect_pp"]) >= min_effect_pp),
                             key=lambda c: -abs(c["effect_pp"])),
            "clusters": sorted((c for c in moved if abs(c["effect_pp"]) >= min_effect_pp),
                               key=lambda c: -abs(c["effect_pp"])),
        })
    return out


def resolution_changes(previous: dict, current: dict) -> list[dict]:
    """The nodes resolved, re-resolved or retracted between two snapshots, as {"node",
    "change": "resolved yes" | "resolved no" | "retracted", "was", "now"}."""
    then = {node["id"]: node.get("resolved") for node in previous["nodes"]}
    out = []
    for node in current["nodes"]:
        was, now = then.get(node["id"]), node.get("resolved")
        if was != now and node["id"] in then:
            out.append({"node": node["id"], "change": f"resolved {now}" if now else "retracted",
                        "was": was, "now": now})
    return out


def _resolution_effect(change: dict, previous: dict, current: dict, node_id: str) -> float | None:
    """How far a resolution change moved `node_id`: the resolution's influence now, less its
    influence then; None where a snapshot that had the resolution did not record its influence
    (snapshots written before it was recorded)."""
    total = 0.0
    for snapshot, side, sign in ((current, "now", 1), (previous, "was", -1)):
        if change[side] is None:
            continue
        effects = snapshot.get("resolution_influence")
        if effects is None or change["node"] not in effects:
            return None
        total += sign * effects[change["node"]].get(node_id, 0.0)
    return round(total, 2)


def _exact_shift(old_node: dict | None, node: dict) -> float | None:
    if old_node is None or old_node.get("exact_mean") is None or node.get("exact_mean") is None:
        return None
    return round(100 * (node["exact_mean"] - old_node["exact_mean"]), 2)


@dataclass
class UpdateResult:
    appended: bool
    snapshot: dict                      # the new snapshot, or the current last one if nothing new
    previous: dict | None               # what it is compared with
    changes: dict | None                # `what_changed`, when a snapshot was appended
    history_path: str
    count: int                          # snapshots in the history now
    written: list[Path] = field(default_factory=list)
    document: ReportDocument | None = None
    baseline: str = ""                  # what `previous` is: "snapshot", "report" (the last
                                        # report's forecast, newer than any snapshot), or ""


def update_work(problem: Problem, inputs: Inputs, settings: SamplerSettings) -> Work:
    """A report's inferences (the update writes one)."""
    return dataclasses.replace(report_work(problem, inputs, settings), command="update")


def run_update(paths: ScenarioPaths, seed: int, settings=None, strict: bool = False,
               import_file: Path | None = None, as_of: dt.date | None = None,
               engine: str = "auto", use_cache: bool = True) -> UpdateResult:
    """Refit if the inputs changed since the last snapshot; append, write reports, diff.
    With `as_of`, a replay: the snapshot is the forecast from the evidence and resolutions
    dated on or before that date, dated that day.

    The history is validated before any fitting, so a damaged history stops the update with
    nothing written. Under `strict`, sampling problems are a user error, nothing written."""
    settings = settings or SamplerSettings()
    if import_file is not None:
        from .evidence import import_items

        # a network past a budget (a team's: counted per analyst) is refused before the import
        # writes the evidence file
        checked_problem(paths, load_inputs(paths, as_of), settings, engine,
                        per_analyst(update_work, len(analyst_ids(paths.analysts))))
        import_items(paths, import_file)
    inputs = load_inputs(paths, as_of)
    shown = paths.display(paths.history)
    history = read_history(paths.history, shown)
    team_files = team_digest(paths)
    fingerprint = inputs_hash(inputs, team_files)
    if history and is_current(history[-1], inputs, fingerprint):
        return UpdateResult(False, history[-1], history[-1], None, shown, len(history))
    prepared = prepare_fit(paths, inputs, settings, engine,
                           per_analyst(update_work, len(analyst_ids(paths.analysts))))
    team = team_fit(paths, inputs, seed, prepared, settings, use_cache, strict)
    posterior, prior = fitted_pair(paths, inputs, seed, settings, prepared, team, use_cache, strict)
    fitted = prepared.problem
    views = views_of(fitted, team)      # the team's influence: each leave-out pooled
    influences = pooled_influence(views, inputs.evidence)
    document = build_report(inputs, posterior, seed, replay=as_of, influences=influences,
                            problem=fitted, prior=prior,
                            **({} if team is None else {"decide": team_decisions(team)}))
    if team is not None:
        document = with_team(document, team, prepared)
    document = with_recalibration(document, paths)
    snapshot = snapshot_of(document, inputs, influences, views, team_files)
    appended, history = append_snapshot(
        paths.history, snapshot, shown,
        should_append=lambda now: not (now and is_current(now[-1], inputs, fingerprint)))
    if not appended:
        return UpdateResult(False, history[-1], history[-1], None, shown, len(history))
    previous, baseline = (history[-1], "snapshot") if history else (None, "")
    shown_report = read_shown(paths.shown) if as_of is None else None
    if shown_report is not None and shown_report["scenario"] == snapshot["scenario"] and (
            previous is None or _later(shown_report, previous)):
        previous, baseline = shown_report, "report"
    # the reports chart the history, the new line (made from this document) included
    document = with_history(document, *read_chart_history(paths.history))
    written = write_reports(paths.reports, document)
    return UpdateResult(True, snapshot, previous, what_changed(previous, snapshot), shown,
                        len(history) + 1, written, document, baseline)


def _later(a: dict, b: dict) -> bool:
    """Was snapshot `a` made after snapshot `b`?"""
    try:
        return dt.datetime.fromisoformat(a["generated_at"]) > dt.datetime.fromisoformat(
            b["generated_at"])
    except (TypeError, ValueError):
        return False
