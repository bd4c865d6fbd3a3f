"""No data lost: many processes adding evidence at once each get their row (and a distinct id),
and many processes appending snapshots at once each get their line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from forecast.io.history import read_history

WRITERS = 12


def test_concurrent_evidence_add_loses_no_row(data_root):
    """Real processes racing on one file: without the lock, read-modify-write cycles would
    overwrite each other and ids would collide."""
    base = [sys.executable, "-m", "forecast", "evidence", "add", "--root", str(data_root),
            "--scenario", "two-node-beta", "--node", "b", "--lr", "2", "--source", "Wire",
            "--reliability", "B", "--credibility", "2", "--date", "2025-02-02"]
    procs = [subprocess.Popen([*base, "--summary", f"writer {k}"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(WRITERS)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(code == 0 for code, _err in outcomes), outcomes
    text = (data_root / "evidence" / "two-node-beta.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 + WRITERS
    assert sorted(r["summary"] for r in rows[1:]) == sorted(f"writer {k}" for k in range(WRITERS))
    assert sorted(r["item_id"] for r in rows) == sorted(["E1"] + [f"E{n}" for n in range(2, 2 + WRITERS)])


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
