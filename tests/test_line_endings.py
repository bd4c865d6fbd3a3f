"""A file keeps its own line endings (CRLF, LF or an old Mac's CR) and its byte-order mark
when add, import or resolve write to it; the first line's ending is the file's."""

from __future__ import annotations

import pytest
from conftest import ADD_ITEM, EVIDENCE_HEADER, run_cli

from forecast.io.text import line_ending

SCENARIO = "two-node-beta"

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("terminated", [True, False])
def test_add_and_import_keep_the_files_line_endings(data_root, tmp_path, newline, terminated):
    path = data_root / "evidence" / f"{SCENARIO}.csv"
    text = (EVIDENCE_HEADER + "E1,b,2025-02-01,Test,A,1,3,,x,\n").replace("\n", newline)
    path.write_bytes(BOM + (text if terminated else text[: -len(newline)]).encode())
    assert run_cli(data_root, [*ADD_ITEM, "--node", "a", "--lr", "2", "--quote", "They met."]).exit_code == 0
    source = tmp_path / "new.csv"
    source.write_text(EVIDENCE_HEADER + ",a,2025-02-05,Wire,C,3,2,,Imported,\n")
    assert run_cli(data_root, ["evidence", "import", str(source), "--scenario", SCENARIO]).exit_code == 0
    data = path.read_bytes()
    assert data.startswith(BOM + b"item_id,") and data.count(BOM) == 1
    breaks = data.replace(b"\r\n", b"#").count(b"\n") + data.replace(b"\r\n", b"#").count(b"\r")
    crlf = data.count(b"\r\n")
    assert (crlf, breaks) == ((4, 0) if newline == "\r\n" else (0, 4)), data
    assert data.endswith(f"E3,a,2025-02-05,Wire,C,3,2,,Imported,,{newline}".encode())
    assert run_cli(data_root, ["evidence", "validate", "--scenario", SCENARIO]).exit_code == 0


def test_resolve_keeps_an_old_mac_files_line_endings(data_root):
    path = data_root / "evidence" / f"{SCENARIO}.resolutions.csv"
    path.write_bytes(b"node,outcome,date,source\r")
    result = run_cli(data_root, ["resolve", "a", "yes", "--date", "2025-03-01", "--source", "Ref",
                             "--scenario", SCENARIO])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == b"node,outcome,date,source\ra,yes,2025-03-01,Ref\r"


@pytest.mark.parametrize("text, newline", [("a\r\nb\n", "\r\n"), ("a\rb", "\r"), ("a\nb\r\n", "\n"),
                                           ("a", "\n"), ("", "\n")])
def test_line_ending_is_the_first_lines(text, newline):
    assert line_ending(text) == newline
