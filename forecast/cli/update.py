"""`forecast update`: refit, append a snapshot, and say what changed and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from ..io.project import scenario_paths
from ..io.replay import parse_as_of

if TYPE_CHECKING:
    from ..jobs.update import UpdateResult

from .app import (
    DEFAULTS,
    AsOfOption,
    Backend,
    BackendOption,
    CacheOption,
    ChainsOption,
    DrawsOption,
    Engine,
    EngineOption,
    ProgressOption,
    RootOption,
    ScenarioOption,
    SeedOption,
    StrictOption,
    TableOrJson,
    TuneOption,
    app,
    stdout_console,
    user_errors,
)

MAX_CAUSES = 4                  # per node: the top movers, then a count
MAX_CLUSTERS = 2


@app.command()
@user_errors
def update(
    scenario: ScenarioOption = DEFAULTS["scenario"],
    root: RootOption = None,
    as_of: AsOfOption = "",
    seed: SeedOption = DEFAULTS["seed"],
    fmt: Annotated[TableOrJson, typer.Option("--format", "-f", help="What to print on stdout.")]
    = TableOrJson.table,
    import_file: Annotated[Path | None, typer.Option(
        "--import", help="First import this evidence CSV (all or nothing).", show_default=False)] = None,
    strict: StrictOption = False,
    draws: DrawsOption = DEFAULTS["draws"],
    tune: TuneOption = DEFAULTS["tune"],
    chains: ChainsOption = DEFAULTS["chains"],
    progress: ProgressOption = True,
    engine: EngineOption = Engine.auto,
    backend: BackendOption = Backend.auto,
    cache: CacheOption = True,
) -> None:
    """Refit with the current evidence, append a snapshot to history.jsonl, rewrite the
    reports, and print what moved each forecast since the previous snapshot.

    Example: forecast update --scenario turkey-peacekeeping
    """
    from ..inference.settings import SamplerSettings
    from ..jobs.update import run_update

    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, progress=progress,
                               backend=backend.value)
    result = run_update(scenario_paths(root, scenario), seed, settings, strict=strict,
                        import_file=import_file, as_of=parse_as_of(as_of), engine=engine.value,
                        use_cache=cache)
    if fmt is TableOrJson.json:
        typer.echo(json.dumps(update_json(result), indent=2, ensure_ascii=False))
    else:
        print_update(result, scenario_paths(root, scenario))


def update_json(result: UpdateResult) -> dict:
    out = {"appended": result.appended, "history": result.history_path,
           "snapshots": result.count, "snapshot": result.snapshot}
    if result.appended:
        out["previous"] = None if result.previous is None else {
            key: result.previous[key] for key in ("generated_at", "as_of", "evidence_hash")}
        out["changes"] = result.changes
        out["written"] = [str(p) for p in result.written]
    else:
        out["message"] = nothing_new(result)
    return out


def nothing_new(result: UpdateResult) -> str:
    last = result.snapshot
    return (f"Nothing new since snapshot {result.count} of {result.history_path} "
            f"({last['generated_at']}, evidence {last['evidence_hash'][:19]}): no refit, "
            "nothing appended.")


def _causes(node: dict) -> str:
    parts = [f"{c['item_id']} {c['change']} {c['effect_pp']:+.2f} pp"
             + (f" [{c['cluster']}]" if c["cluster"] else "") for c in node["causes"][:MAX_CAUSES]]
    if len(node["causes"]) > MAX_CAUSES:
        parts.append(f"+{len(node['causes']) - MAX_CAUSES} more")
    parts += [f"cluster {c['cluster']} {c['effect_pp']:+.2f} pp"
              for c in node["clusters"][:MAX_CLUSTERS]]
    if len(node["clusters"]) > MAX_CLUSTERS:
        parts.append(f"+{len(node['clusters']) - MAX_CLUSTERS} more clusters")
    if node.get("resolved") and node.get("resolved") != node.get("was_resolved"):
        parts.append(f"resolved {node['resolved']}")
    return "; ".join(parts) or "—"


def print_update(result: UpdateResult, paths) -> None:
    from ..render import as_of_words, overdue_banner, pct
    from ..render.terminal import diagnostics_line

    console = stdout_console()
    if not result.appended:
        console.print(nothing_new(result), markup=False, highlight=False, soft_wrap=True)
        return
    changes = result.changes
    items = changes["items"]
    if changes["first"]:
        head = (f"First snapshot of {result.snapshot['scenario']} (as of "
                f"{result.snapshot['as_of']}), {len(items['added']):,} items: nothing to compare with.")
    else:
        head = (f"Snapshot {result.count} of {result.snapshot['scenario']} (as of "
                f"{result.snapshot['as_of']}) vs snapshot {result.count - 1} "
                f"({result.previous['generated_at']})\nItems added {_ids(items['added'])}; "
                f"removed {_ids(items['removed'])}; changed {_ids(items['changed'])}.")
    console.print(head, markup=False, highlight=False, soft_wrap=True)
    if overdue_banner(result.document):
        console.print("Overdue: " + overdue_banner(result.document), markup=False,
                      highlight=False, soft_wrap=True, style="bold")
    console.print(as_of_words(result.document), markup=False, highlight=False, soft_wrap=True)
    table = Table(title_justify="left")
    for name, justify in (("node", "left"), ("before", "right"), ("after", "right"),
                          ("shift", "right"), ("caused by (influence, pp)", "left")):
        table.add_column(name, justify=justify)
    for node in changes["nodes"]:
        before = "—" if node["before"] is None else pct(node["before"])
        shift = "—" if node["shift_pp"] is None else f"{node['shift_pp']:+.2f} pp"
        table.add_row(Text(node["id"]), before, pct(node["after"]), shift, Text(_causes(node)))
    console.print(table)
    console.print(diagnostics_line(result.document), markup=False, style="dim")
    written = ", ".join(paths.display(p) for p in result.written)
    console.print(f"Appended to {result.history_path}; wrote {written}", markup=False,
                  highlight=False, soft_wrap=True)


def _ids(ids: list[str]) -> str:
    from ..render import id_list

    return id_list(ids)
