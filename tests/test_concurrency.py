"""No data lost: many processes adding evidence at once each get their row (and a distinct id),
many processes appending snapshots at once each get their line, and a fit running while
evidence is added reads one complete version of the file, never a half-written one."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forecast.io.evidence import evidence_hash, parse_evidence
from forecast.io.history import read_history
from forecast.io.priors import load_scenario

WRITERS = 16


def adders(root: Path, count: int, stagger: float = 0.0) -> list[subprocess.Popen]:
    """`count` real `python -m forecast evidence add` processes, started `stagger` s apart."""
    base = [sys.executable, "-m", "forecast", "evidence", "add", "--root", str(root),
            "--scenario", "two-node-beta", "--node", "b", "--lr", "2", "--source", "Wire",
            "--reliability", "B", "--credibility", "2", "--date", "2025-02-02"]
    procs = []
    for k in range(count):
        procs.append(subprocess.Popen([*base, "--summary", f"writer {k}"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
        time.sleep(stagger)
    return procs


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    """Return code, stdout and stderr of each process (read while waiting: a child that fills
    its pipe would otherwise block forever)."""
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append((p.returncode, out, err))
    return results


def check_all_rows_there(root: Path) -> None:
    text = (root / "evidence" / "two-node-beta.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 + WRITERS
    assert sorted(r["summary"] for r in rows[1:]) == sorted(f"writer {k}" for k in range(WRITERS))
    assert sorted(r["item_id"] for r in rows) == sorted(["E1"] + [f"E{n}" for n in range(2, 2 + WRITERS)])


def test_concurrent_evidence_add_loses_no_row(data_root):
    """Real processes racing on one file: without the lock, read-modify-write cycles would
    overwrite each other and ids would collide."""
    outcomes = finish(adders(data_root, WRITERS))
    assert all(code == 0 for code, _out, _err in outcomes), outcomes
    check_all_rows_there(data_root)


def prefix_hashes(root: Path) -> list[str]:
    """The evidence hash of every complete prefix of the final file's rows (adds only append,
    so every state the file was ever in is one of these)."""
    scenario = load_scenario(root / "priors" / "two-node-beta.toml")
    items = parse_evidence((root / "evidence" / "two-node-beta.csv").read_text(), "e.csv", scenario)
    return [evidence_hash(items[:k]) for k in range(len(items) + 1)]


READER = """
import sys, time
from forecast.io.project import load_inputs, scenario_paths
paths = scenario_paths(sys.argv[1], "two-node-beta")
stop = time.monotonic() + float(sys.argv[2])
while time.monotonic() < stop:
    print(load_inputs(paths).evidence_hash, flush=True)
    time.sleep(0.005)
"""


@pytest.mark.slow
def test_update_and_readers_see_a_complete_version_while_evidence_is_added(data_root):
    """`forecast update` (a real NUTS fit) and a reader loading the inputs in a loop both run
    while 16 processes add rows: every evidence hash either one saw is the hash of a complete
    prefix of the final file, never of a half-written file (a torn file would fail to parse,
    or parse to rows that no prefix has)."""
    update = subprocess.Popen(
        [sys.executable, "-m", "forecast", "update", "--root", str(data_root), "--scenario",
         "two-node-beta", "--draws", "100", "--tune", "100", "--chains", "2", "--no-progress",
         "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(data_root), "6"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outcomes = finish(adders(data_root, WRITERS, stagger=0.15))
    assert all(code == 0 for code, _out, _err in outcomes), outcomes
    (update_code, update_out, update_err), (reader_code, reader_out, reader_err) = finish([update, reader])
    assert update_code == 0, update_err
    assert reader_code == 0, reader_err
    check_all_rows_there(data_root)
    prefixes = prefix_hashes(data_root)
    snapshot = read_history(data_root / "reports" / "two-node-beta" / "history.jsonl")[-1]
    assert snapshot["evidence_hash"] == json.loads(update_out)["snapshot"]["evidence_hash"]
    assert snapshot["evidence_hash"] in prefixes
    seen = reader_out.split()
    assert len(seen) > 10
    assert set(seen) <= set(prefixes), set(seen) - set(prefixes)


APPENDER = """
import json, sys
from pathlib import Path
from forecast.io.history import append_snapshot
snapshot = json.loads(sys.argv[2])
snapshot["seed"] = int(sys.argv[3])
append_snapshot(Path(sys.argv[1]), snapshot)
"""


def minimal_snapshot() -> dict:
    return {"scenario": "s", "as_of": "2025-01-01", "generated_at": "2025-01-01T00:00:00+00:00",
            "model_version": "1.0", "evidence_hash": "sha256:0", "seed": 0, "versions": {},
            "engine": "test", "diagnostics": {}, "items": {}, "influence": {},
            "nodes": [{"id": "a", "mean": 0.5, "interval": [0.4, 0.6], "interval_prob": 0.9,
                       "resolved": None}]}


def test_concurrent_history_appends_lose_no_line(tmp_path):
    history = tmp_path / "reports" / "s" / "history.jsonl"
    payload = json.dumps(minimal_snapshot())
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(history), payload, str(k)])
             for k in range(WRITERS)]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    snapshots = read_history(history)
    assert sorted(s["seed"] for s in snapshots) == list(range(WRITERS))
    assert history.read_text().count("\n") == WRITERS
