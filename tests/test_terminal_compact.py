"""The terminal table of a long report: compact by default (the questions that moved most), in
full on `--format table`, and the same characters rich lays out when written directly."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from forecast.cli import app
from forecast.render.plain_table import table_text
from forecast.render.terminal import COMPACT_PAST, COMPACT_SHOWN

runner = CliRunner()

MOVED = 30          # q01..q30 carry evidence for yes, q30 the strongest


def many_questions(root, binary: int) -> None:
    """A scenario "many" of `binary` independent yes/no questions q01.. (fixed at 50%) and two
    questions of three outcomes, k and calm (20/60/20%): q01..q30 moved by evidence of LR 1.2 ..
    7.0, k by an LR of 50 for "high" (the largest move), calm by none; the last yes/no question
    resolved yes."""
    nodes = [f"""
[[node]]
id = "q{i:02d}"
role = "driver"
question = "Q{i}?"
resolution = "Q{i} happens."
opens = 2025-01-01
deadline = 2030-01-01
parents = []
prior = [{{ p = 0.5, fixed = true }}]
rationale = "Even."
reference_class = "Coin flips."
""" for i in range(1, binary + 1)]
    toml = """[scenario]
id = "many"
title = "Many questions"
trigger = "A test network"
as_of = 2025-01-01
""" + "".join(nodes) + """""" + "".join(f"""
[[node]]
id = "{name}"
states = ["low", "mid", "high"]
role = "driver"
question = "{name.title()}?"
resolution = "{name.title()} settles."
opens = 2025-01-01
deadline = 2030-01-01
parents = []
prior = [{{ p = [0.2, 0.6, 0.2], fixed = true }}]
rationale = "Mid is usual."
reference_class = "Test."
""" for name in ("k", "calm"))
    (root / "priors").mkdir()
    (root / "evidence").mkdir()
    (root / "priors" / "many.toml").write_text(toml)
    rows = [f"E{i:02d},q{i:02d},2025-01-02,Test,A,1,{1 + 0.2 * i:.1f},,item {i},,"
            for i in range(1, MOVED + 1)]
    rows.append("E99,k,2025-01-02,Test,A,1,50,,item k,,high")
    (root / "evidence" / "many.csv").write_text(
        "item_id,node,date,source,reliability,credibility,lr,cluster,summary,url,state\n"
        + "\n".join(rows) + "\n")
    (root / "evidence" / "many.resolutions.csv").write_text(
        f"node,outcome,date,source\nq{binary:02d},yes,2025-01-03,Test\n")


def table_rows(output: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("│")[1:-1]]
            for line in output.splitlines() if line.startswith("│")]


def report(root, *args):
    result = runner.invoke(app, ["report", "--root", str(root), "--scenario", "many", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_long_report_shows_the_questions_that_moved_most_and_says_where_the_rest_are(tmp_path):
    binary = 45
    many_questions(tmp_path, binary)
    total = binary + 2
    assert total > COMPACT_PAST
    out = report(tmp_path)
    rows = table_rows(out)
    # k moved most (high: 20% -> 92.6%, LR 50), then the yes/no questions by the strength of
    # their evidence; the resolved q45 moved further still but is no forecast any more
    expected = ["k"] + [f"q{i:02d}" for i in range(MOVED, MOVED - COMPACT_SHOWN + 1, -1)]
    assert [row[0] for row in rows] == expected
    k_row = rows[0]
    assert k_row[2:5] == ["20.0%", "92.6%", "92.6% – 92.6%"]
    assert k_row[5].startswith("most likely high: ") and k_row[6] == "high +72.6 pp"
    # q30: LR 7 on an even prior: 7/8
    assert rows[1][2:4] == ["50.0%", "87.5%"] and rows[1][6] == "+37.5 pp"
    assert (f"Showing the {COMPACT_SHOWN} of {total} questions that moved most from their "
            f"priors; the other {total - COMPACT_SHOWN} (1 of them resolved) are in the full "
            "table in reports/many/report.md (or run with --format table).") in " ".join(out.split())
    assert "Wrote reports/many/report.md" in out
    assert "q45" in (tmp_path / "reports" / "many" / "report.md").read_text()


def test_format_table_prints_every_question_of_a_long_report(tmp_path):
    many_questions(tmp_path, 45)
    out = report(tmp_path, "--format", "table")
    names = [row[0] for row in table_rows(out)]
    assert [n for n in names if not n.startswith("·")] == [f"q{i:02d}" for i in range(1, 46)] + [
        "k", "calm"]
    assert names[-3:] == ["· low", "· mid", "· high"]
    assert "resolved yes" in out and "Showing" not in out


def test_a_report_of_up_to_the_threshold_prints_the_full_table(tmp_path):
    many_questions(tmp_path, COMPACT_PAST - 2)     # with k and calm: exactly COMPACT_PAST
    out = report(tmp_path)
    assert out == report(tmp_path, "--format", "table")
    names = [row[0] for row in table_rows(out) if not row[0].startswith("·")]
    assert names == [f"q{i:02d}" for i in range(1, COMPACT_PAST - 1)] + ["k", "calm"]
    assert "Showing" not in out and "moved" not in out


def test_the_compact_terminal_gives_the_history_of_the_questions_it_shows_only(tmp_path):
    many_questions(tmp_path, 45)
    history = tmp_path / "reports" / "many" / "history.jsonl"
    history.parent.mkdir(parents=True)
    distribution = [{"state": state, "mean": p, "interval": [p, p]}
                    for state, p in (("low", 0.1), ("mid", 0.7), ("high", 0.2))]
    history.write_text(json.dumps({
        "as_of": "2025-01-01", "generated_at": "2025-01-01T09:00:00+00:00",
        "evidence_hash": "sha256:hand", "nodes": [
            {"id": node, "mean": None, "interval": None, "distribution": distribution}
            for node in ("k", "calm")]}) + "\n")
    compact, full = report(tmp_path), report(tmp_path, "--format", "table")
    assert "  k: 2025-01-01 mid 70.0% → this report high 92.6%" in compact
    assert "  calm:" not in compact                 # calm did not move: not in the compact table
    assert "  k: 2025-01-01" in full and "  calm: 2025-01-01 mid 70.0% → this report mid 60.0%" in full


def rich_and_plain(table: Table, width: int) -> tuple[str, str | None]:
    outputs = []
    for direct in (False, True):
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, color_system=None)
        text = table_text(table, console) if direct else None
        if direct and text is None:
            return outputs[0], None
        console.print(table) if text is None else console.print(text, soft_wrap=True, crop=False)
        outputs.append(buffer.getvalue())
    return outputs[0], outputs[1]


CELL = st.one_of(st.text(alphabet="ab 1%.–界", max_size=12),
                 st.sampled_from(["[bold]resolved yes[/bold]", "x [bold](overdue)[/bold]", "",
                                  " [bold]y[/bold] "]),
                 st.builds(Text, st.text(alphabet="ab[]/ ", max_size=8),
                           justify=st.sampled_from([None, "left", "right", "center"])))


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=4, max_size=4), min_size=1, max_size=8),
       title=st.text(alphabet="ab [/]", max_size=30), width=st.integers(20, 90),
       title_justify=st.sampled_from(["left", "right", "center"]))
def test_a_table_written_directly_is_what_rich_prints(rows, title, width, title_justify):
    table = Table(title=Text(title) if title else None, title_justify=title_justify)
    table.add_column("node")
    table.add_column("prior", justify="right")
    table.add_column("term", min_width=6)
    table.add_column("mid", justify="center")
    for row in rows:
        table.add_row(*row)
    by_rich, direct = rich_and_plain(table, width)
    if direct is not None:
        assert direct == by_rich


def test_a_table_wider_than_the_console_is_left_to_rich():
    table = Table()
    table.add_column("node")
    table.add_row("x" * 30)
    assert rich_and_plain(table, 34)[1] is not None
    assert rich_and_plain(table, 33)[1] is None        # rich folds the cell: 30 + 2 + 2 > 33
