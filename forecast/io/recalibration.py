"""reports/recalibration.json: where `forecast recalibrate` writes its fit, and reading it back
for the reports (a file that is not such a document is a located error, not ignored)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import fail, problem

GROUP_KEYS = ("a", "b", "a_interval", "b_interval", "n")


def recalibration_path(root: Path) -> Path:
    return root / "reports" / "recalibration.json"


def read_recalibration(root: Path) -> dict | None:
    """The fitted recalibration under `root`, or None where there is none."""
    path = recalibration_path(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise problem(path, None, None, f"cannot read it ({error.__class__.__name__})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise problem(path, error.lineno, "json", f"invalid JSON: {error.msg}; rerun "
                      "`forecast recalibrate` or delete the file") from None
    if not isinstance(document, dict) or not isinstance(document.get("groups"), dict):
        raise fail(path, None, "groups", "the document `forecast recalibrate` writes", "other JSON")
    for key in ("fitted_on", "n"):
        if key not in document:
            raise fail(path, None, key, "a value", "nothing (missing)")
    for group, fitted in document["groups"].items():
        ok = isinstance(fitted, dict) and all(k in fitted for k in GROUP_KEYS) and all(
            isinstance(fitted[k], int | float) and not isinstance(fitted[k], bool)
            for k in ("a", "b")) and all(
            isinstance(fitted[k], list) and len(fitted[k]) == 2 for k in ("a_interval", "b_interval"))
        if not ok:
            raise fail(path, None, f"groups.{group}", "{a, b, a_interval, b_interval, n}", fitted)
    return document
