"""`forecast network import / export`: a network from another tool as a scenario, and a
scenario's network, at its prior means, in another tool's format. Neither fits a model, so
neither imports PyMC; both need pyAgrum (forecast.io.networks)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import fail
from ..io.atomic import atomic_write_bytes
from ..io.catalog import create_scenario_files
from ..io.network_toml import imported_toml
from ..io.networks import network_bytes, read_network
from ..io.priors import load_scenario, parse_scenario
from ..io.project import SCENARIO_ID_PATTERN, ScenarioPaths, scenario_paths
from ..model.tables import scenario_tables


@dataclass(frozen=True)
class Imported:
    paths: ScenarioPaths
    source: str
    nodes: int
    rows: int
    strength: float | None
    written: list[Path]

    def as_json(self) -> dict:
        return {"scenario": self.paths.scenario_id, "source": self.source, "nodes": self.nodes,
                "cpt_rows": self.rows, "strength": self.strength,
                "created": [self.paths.display(p) for p in self.written]}


def default_id(path: Path) -> str:
    """The file's stem lowercased, every character other than a-z, 0-9, - and _ as _."""
    return re.sub(r"[^a-z0-9_-]", "_", path.stem.lower())


def import_network(root: Path | str | None, source: Path, today: dt.date,
                   scenario_id: str | None = None, strength: float | None = None) -> Imported:
    """priors/<id>.toml from the network in `source`, with header-only evidence and resolutions
    CSVs. Nothing is written when the file does not read, when the TOML it makes would not
    (checked by the scenario reader itself), or when any of the three files exists."""
    if strength is not None and not strength > 0:
        raise fail("--strength", None, "strength", "a positive prior strength", strength)
    chosen = scenario_id if scenario_id is not None else default_id(source)
    if not re.match(SCENARIO_ID_PATTERN, chosen):
        raise fail("--id" if scenario_id is not None else str(source), None, "id",
                   "a scenario id of lowercase letters, digits, - and _ (give one with --id)",
                   chosen)
    paths = scenario_paths(root, chosen)
    network = read_network(source)
    text = imported_toml(network, chosen, source.name, today, strength)
    parse_scenario(text, paths.display(paths.priors))
    return Imported(paths, source.name, len(network.nodes), network.n_rows, strength,
                    create_scenario_files(paths, text))


@dataclass(frozen=True)
class Exported:
    scenario: str
    fmt: str
    nodes: int
    data: bytes
    written: Path | None


def export_network(root: Path | str | None, scenario_id: str | None, fmt: str,
                   output: Path | None = None) -> Exported:
    """The scenario's network at its prior means in format `fmt`: written atomically to
    `output`, or returned for the caller to print."""
    paths = scenario_paths(root, scenario_id)
    scenario = load_scenario(paths.priors)
    network = scenario_tables(scenario)
    data = network_bytes(network, fmt, scenario.id)
    if output is not None:
        atomic_write_bytes(output, data)
    return Exported(scenario.id, fmt, len(network.nodes), data, output)
