"""The HTML pages' shared machinery: the one jinja2 environment of every page (report, score,
check, backtest), autoescaped so evidence text is always shown as text, its filters, and the
compiled-template cache that spares a new process the compile."""

from __future__ import annotations

from functools import cache

from markupsafe import Markup, escape

from . import num, pct_or_dash, signed_pp, term_of, timestamp
from .team import analyst_number, analysts_words, recalibrated_words


def code_spans(text: str) -> Markup:
    """Escaped text with its `backticked` commands as <code>."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts)))


def _template_cache():
    """Compiled templates kept between processes (jinja2's bytecode cache, keyed by the
    template's source and checked against it), in the user's cache directory: compiling the
    report template costs a new `forecast report` process a few tenths of a second. None (no
    cache) where that directory cannot be made."""
    import os
    from pathlib import Path

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    directory = Path(base) / "forecast" / "templates"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _quiet_cache_class()(str(directory)) if os.access(directory, os.W_OK) else None


def _quiet_cache_class():
    from jinja2 import FileSystemBytecodeCache

    class QuietBytecodeCache(FileSystemBytecodeCache):
        """A cache that never fails a report: an unreadable or unwritable entry is a miss."""

        def load_bytecode(self, bucket):
            try:
                super().load_bytecode(bucket)
            except (OSError, EOFError, ValueError):
                bucket.reset()

        def dump_bytecode(self, bucket):
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return QuietBytecodeCache


@cache
def template_environment():
    """The one jinja2 environment of every HTML page (report, score, check, backtest):
    autoescaped, so evidence text is always shown as text."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("forecast", "render/templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, bytecode_cache=_template_cache())
    env.filters.update(pct=pct_or_dash, num=num, signed_pp=signed_pp, timestamp=timestamp,
                       code_spans=code_spans, term_of=term_of, analyst_number=analyst_number,
                       analysts_words=analysts_words, recalibrated_words=recalibrated_words)
    return env
