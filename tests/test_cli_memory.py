"""A `forecast` process keeps freed memory for reuse (glibc), and only the command line does:
the library leaves the allocator alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

import forecast.cli as cli
from forecast.cli import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_allocator_is_told_to_keep_freed_memory_on_linux():
    assert memory.keep_freed_memory() is True


def test_the_command_line_sets_the_allocator_before_running_a_command(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append("memory"))
    monkeypatch.setattr(cli, "app", lambda: calls.append("app"))
    cli.main()
    assert calls == ["memory", "app"]


def test_importing_the_library_does_not_touch_the_allocator():
    code = ("import sys, forecast.api, forecast.jobs.report; "
            "sys.exit('forecast.cli.memory' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
