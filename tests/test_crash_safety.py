"""Crash safety: a process killed with SIGKILL while it writes reports, the history or the
evidence leaves every file as it was before or as it is after, never half-written.

A child process (`python -c`) does the real writes with crash hooks patched into `os` (test
only): die halfway through writing a file's bytes, die just before the Nth rename, or write in
slow small chunks while the parent kills it at random moments. The parent then checks every
file parses and equals a complete old or new version.

A kill before the rename can leave the writer's hidden temporary (`.<name>.<random>.tmp`)
beside the file. It is never read (readers open files by their exact names); the tests check
that the scenario still lists, loads and accepts the next write with such leftovers present."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import snapshot_files
from typer.testing import CliRunner

from forecast.cli import app
from forecast.io.atomic import atomic_write_many, atomic_write_text, read_file_set
from forecast.io.evidence import load_evidence
from forecast.io.history import read_history
from forecast.io.priors import load_scenario

SCENARIO = "two-node-beta"
REPORT_NAMES = ("report.md", "report.html", "report.json")

CHILD = r"""
import json, os, signal, sys, time
from pathlib import Path

kind, root, plan = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
real_replace, real_fdopen, real_write = os.replace, os.fdopen, os.write


def die():
    os.kill(os.getpid(), signal.SIGKILL)


class Wrapped:
    def __init__(self, fh, write):
        self.fh, self.write = fh, write

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return self.fh.__exit__(*args)

    def __getattr__(self, name):
        return getattr(self.fh, name)


if plan.startswith("rename:"):                  # die just before the Nth rename
    calls = [0]

    def replace(src, dst):
        calls[0] += 1
        if calls[0] == int(plan.split(":")[1]):
            die()
        return real_replace(src, dst)
    os.replace = replace
elif plan == "half":                            # die with half of a file's bytes on disk
    def half(fh):
        def write(data):
            fh.write(data[: len(data) // 2])
            fh.flush()
            os.fsync(fh.fileno())
            die()
        return write
    os.fdopen = lambda *a, **k: (lambda fh: Wrapped(fh, half(fh)))(real_fdopen(*a, **k))

    def short_write(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        die()
    os.write = short_write
elif plan == "slow":                            # small chunks and pauses: outside kills land mid-write
    def slow(fh):
        def write(data):
            for start in range(0, len(data), 8192):
                fh.write(data[start:start + 8192])
                fh.flush()
                time.sleep(0.0005)
        return write
    os.fdopen = lambda *a, **k: (lambda fh: Wrapped(fh, slow(fh)))(real_fdopen(*a, **k))

generations = range(int(sys.argv[4]), int(sys.argv[5]))
if kind == "reports":
    from forecast.io.atomic import write_file_set
    names = json.loads(sys.argv[6])
    for g in generations:
        write_file_set(root, {name: json.dumps({"file": name, "generation": g,
                                                "pad": name * 20000}) for name in names}, "report")
        print(g, flush=True)
elif kind == "history":
    from forecast.io.history import append_snapshot
    snapshot = json.loads(sys.argv[6])
    for g in generations:
        append_snapshot(root / "history.jsonl", {**snapshot, "seed": g, "pad": "p" * 50000})
        print(g, flush=True)
elif kind == "evidence":
    from forecast.cli import main
    for g in generations:
        sys.argv = ["forecast", "evidence", "add", "--root", str(root), "--scenario", "two-node-beta",
                    "--node", "b", "--lr", "2", "--source", "Wire " + "w" * 3000, "--reliability", "B",
                    "--credibility", "2", "--date", "2025-02-02", "--summary", f"item {g}"]
        try:
            main()
        except SystemExit as done:
            assert not done.code, done.code
        print(g, flush=True)
"""


def snapshot_template() -> str:
    return json.dumps({
        "scenario": "s", "as_of": "2025-01-01", "generated_at": "2025-01-01T00:00:00+00:00",
        "model_version": "1.0", "evidence_hash": "sha256:0", "seed": 0, "versions": {},
        "engine": "test", "diagnostics": {}, "items": {}, "influence": {},
        "nodes": [{"id": "a", "mean": 0.5, "interval": [0.4, 0.6], "interval_prob": 0.9,
                   "resolved": None}]})


def child(kind: str, root: Path, plan: str, start: int, stop: int) -> subprocess.Popen:
    extra = {"reports": json.dumps(REPORT_NAMES), "history": snapshot_template(), "evidence": ""}
    return subprocess.Popen([sys.executable, "-c", CHILD, kind, str(root), plan, str(start),
                             str(stop), extra[kind]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finished(proc: subprocess.Popen) -> int:
    """Wait for the child, close its pipes; its return code (-9 when it killed itself)."""
    _out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    return proc.returncode


# -- what a complete version of each kind of file is ---------------------------------------------

def report_generations(folder: Path) -> dict[str, int | None]:
    """Each report file's generation; a file that is not a complete generation fails."""
    found = {}
    for name in REPORT_NAMES:
        path = folder / name
        if not path.exists():
            found[name] = None
            continue
        doc = json.loads(path.read_text())
        assert path.read_text() == json.dumps({"file": name, "generation": doc["generation"],
                                               "pad": name * 20000})
        found[name] = doc["generation"]
    return found


def set_generation(folder: Path) -> int:
    """The generation of the report set read through its manifest: one for all three files."""
    found = {json.loads(data)["generation"] for data in read_file_set(folder, "report").values()}
    assert len(found) == 1, found
    return found.pop()


def history_generations(folder: Path) -> list[int]:
    """Seeds of the snapshots in order; read_history fails on a torn or damaged line."""
    return [s["seed"] for s in read_history(folder / "history.jsonl")]


def evidence_generations(root: Path) -> list[str]:
    scenario = load_scenario(root / "priors" / f"{SCENARIO}.toml")
    items = load_evidence(root / "evidence" / f"{SCENARIO}.csv", scenario)
    assert items[0].item_id == "E1"
    return [it.summary for it in items[1:]]


def leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.tmp"))


def check_leftovers_are_hidden_temporaries(root: Path) -> None:
    for path in leftovers(root):
        assert path.name.startswith(".") and path.name.endswith(".tmp"), path


# -- deterministic crash points ------------------------------------------------------------------

@pytest.mark.parametrize("plan", ["half", "rename:1", "rename:2", "rename:3", "rename:4"])
def test_reports_killed_mid_write_change_as_one_set(tmp_path, plan):
    """Generation 0 is on disk; a child dies while writing generation 1 at the given point.
    Rename 1 is the manifest (the commit), renames 2-4 put the plain files in place: through
    the manifest the set is all old before the commit and all new after it; each plain file is
    old or new; the next write finishes the job and clears the dead writer's leftovers."""
    assert finished(child("reports", tmp_path, "none", 0, 1)) == 0
    before = {p: d for p, d in snapshot_files(tmp_path).items() if p.parent == tmp_path}
    proc = child("reports", tmp_path, plan, 1, 2)
    assert finished(proc) == -signal.SIGKILL
    committed = plan.startswith("rename:") and int(plan.split(":")[1]) >= 2
    assert set_generation(tmp_path) == int(committed)
    renamed = int(plan.split(":")[1]) - 2 if committed else 0
    assert list(report_generations(tmp_path).values()) == [1] * renamed + [0] * (3 - renamed)
    changed = {p for p, d in snapshot_files(tmp_path).items()
               if p.parent == tmp_path and not p.name.endswith(".tmp") and before.get(p) != d}
    assert changed == ({tmp_path / "report.manifest.json"} if committed else set()) | {
        tmp_path / n for n in REPORT_NAMES[:renamed]}
    check_leftovers_are_hidden_temporaries(tmp_path)
    assert finished(child("reports", tmp_path, "none", 2, 3)) == 0
    assert set_generation(tmp_path) == 2
    assert list(report_generations(tmp_path).values()) == [2, 2, 2]
    assert len(list(tmp_path.glob(".report-generation-*"))) == 2     # the current and the one before
    assert not leftovers(tmp_path)


@pytest.mark.parametrize("plan", ["half", "rename:1"])
def test_history_append_killed_mid_write_leaves_the_history_as_it_was(tmp_path, plan):
    assert finished(child("history", tmp_path, "none", 0, 2)) == 0
    before = (tmp_path / "history.jsonl").read_bytes()
    proc = child("history", tmp_path, plan, 2, 3)
    assert finished(proc) == -signal.SIGKILL
    assert (tmp_path / "history.jsonl").read_bytes() == before
    assert history_generations(tmp_path) == [0, 1]
    check_leftovers_are_hidden_temporaries(tmp_path)
    assert finished(child("history", tmp_path, "none", 2, 3)) == 0
    assert history_generations(tmp_path) == [0, 1, 2]


@pytest.mark.parametrize("plan", ["half", "rename:1"])
def test_evidence_add_killed_mid_write_leaves_the_evidence_as_it_was(data_root, plan):
    before = snapshot_files(data_root)
    proc = child("evidence", data_root, plan, 0, 1)
    assert finished(proc) == -signal.SIGKILL
    after = {p: d for p, d in snapshot_files(data_root).items()
             if not p.name.endswith((".tmp", ".lock"))}
    assert after == before
    check_leftovers_are_hidden_temporaries(data_root)
    # The leftovers are invisible: the scenario validates, lists and takes the next add.
    runner = CliRunner()
    validated = runner.invoke(app, ["evidence", "validate", "--root", str(data_root), "--scenario",
                                    SCENARIO])
    assert validated.exit_code == 0, validated.stderr
    listed = runner.invoke(app, ["scenarios", "--root", str(data_root), "--format", "json"])
    assert sorted(s["id"] for s in json.loads(listed.stdout)["scenarios"]) == sorted(
        p.stem for p in (data_root / "priors").glob("*.toml"))
    assert all(s.get("error") is None for s in json.loads(listed.stdout)["scenarios"])
    assert finished(child("evidence", data_root, "none", 0, 1)) == 0
    assert evidence_generations(data_root) == ["item 0"]


# -- kills at random moments ---------------------------------------------------------------------

KILLS = 8


def kill_at_random(kind: str, root: Path, rng: random.Random, start: int, wait: float) -> None:
    """Kill the writer at a random moment after its first complete write (waiting for that
    first write, rather than a fixed time, keeps the test meaningful on a loaded machine)."""
    proc = child(kind, root, "slow", start, start + 1000)
    proc.stdout.readline()
    time.sleep(rng.uniform(0, wait))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)


@pytest.mark.slow
def test_reports_history_and_evidence_survive_random_kills(data_root, tmp_path):
    """Each writer loops, writing slowly; it is killed at a random moment, KILLS times per kind.
    After every kill each file is a complete version: report files a whole generation each
    (and one generation for all three, read through the manifest),
    the history a sequence of whole snapshots, the evidence a run of whole rows."""
    rng = random.Random(8)
    reports, history = tmp_path / "reports", tmp_path / "history"
    reports.mkdir()
    history.mkdir()
    seen_reports: set[int | None] = set()
    for _ in range(KILLS):
        kill_at_random("reports", reports, rng, rng.randrange(1000), wait=0.35)
        seen_reports |= set(report_generations(reports).values())
        if (reports / "report.manifest.json").exists():
            set_generation(reports)             # through the manifest: one whole set
        kill_at_random("history", history, rng, len(history_generations(history)) if (
            history / "history.jsonl").exists() else 0, wait=0.35)
        seeds = history_generations(history)
        assert seeds == list(range(len(seeds)))
        kill_at_random("evidence", data_root, rng, len(evidence_generations(data_root)), wait=0.45)
        summaries = evidence_generations(data_root)
        assert summaries == [f"item {g}" for g in range(len(summaries))]
    assert len(seen_reports - {None}) > 1        # the kills did land while writing went on
    assert len(history_generations(history)) > 1
    assert len(evidence_generations(data_root)) > 1
    for root in (reports, history, data_root):
        check_leftovers_are_hidden_temporaries(root)


# -- permissions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_atomic_writes_get_the_usual_permissions(tmp_path, umask):
    """A new file gets 0o666 less the umask, as open() would give (mkstemp alone gives 0o600,
    which hides shared reports from their readers); a replaced file keeps its own mode."""
    previous = os.umask(umask)
    try:
        fresh = tmp_path / "new.txt"
        atomic_write_text(fresh, "one")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask
        atomic_write_many({tmp_path / "a.md": "a", tmp_path / "b.html": "b"})
        assert stat.S_IMODE((tmp_path / "b.html").stat().st_mode) == 0o666 & ~umask
        os.chmod(fresh, 0o640)
        atomic_write_text(fresh, "two")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640 and fresh.read_text() == "two"
    finally:
        os.umask(previous)


def test_evidence_add_and_history_keep_shareable_permissions(data_root):
    evidence = data_root / "evidence" / f"{SCENARIO}.csv"
    os.chmod(evidence, 0o664)
    assert finished(child("evidence", data_root, "none", 0, 1)) == 0
    assert stat.S_IMODE(evidence.stat().st_mode) == 0o664
    assert finished(child("history", data_root, "none", 0, 1)) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((data_root / "history.jsonl").stat().st_mode) == 0o666 & ~mask
