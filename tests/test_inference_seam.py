"""Every command reaches the junction-tree kernel through the seam (`forecast.inference.exact`
and `forecast.inference.problem`): no module of the analysis, jobs, cli or render layers imports
`forecast.inference.elimination`, in any spelling of the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "forecast"
LAYERS = ("analysis", "jobs", "cli", "render")
KERNEL = "forecast.inference.elimination"


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a source file imports (`from X import name` counts as X and X.name),
    relative imports resolved against `module`, the file's dotted name."""
    package = module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            found.add(origin)
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def imports_kernel(source: str, module: str) -> bool:
    return any(name == KERNEL or name.startswith(KERNEL + ".")
               for name in imported_modules(source, module))


def layer_files() -> list[Path]:
    return sorted(path for layer in LAYERS for path in (PACKAGE / layer).rglob("*.py"))


def dotted(path: Path) -> str:
    return ".".join(("forecast",) + path.relative_to(PACKAGE).with_suffix("").parts)


@pytest.mark.parametrize("source", [
    "from ..inference import elimination\n",
    "from ..inference.elimination import TooLarge\n",
    "from ...inference.elimination.calibrate import marginals\n",
    "from forecast.inference import elimination as kernel\n",
    "import forecast.inference.elimination.sample\n",
])
def test_every_spelling_of_a_kernel_import_is_recognised(source):
    assert imports_kernel(source, "forecast.jobs.sub.example" if "..." in source
                          else "forecast.jobs.example")


@pytest.mark.parametrize("source", [
    "from ..inference import exact\n",
    "from ..inference.exact import TooLarge, theta_marginals\n",
    "from ..inference.problem import prepare\n",
    "import forecast.inference.exact\n",
])
def test_imports_through_the_seam_are_not_taken_for_the_kernel(source):
    assert not imports_kernel(source, "forecast.jobs.example")


def test_no_analysis_jobs_cli_or_render_module_imports_the_kernel():
    files = layer_files()
    assert len(files) > 20
    offenders = [str(path.relative_to(PACKAGE)) for path in files
                 if imports_kernel(path.read_text(encoding="utf-8"), dotted(path))]
    assert offenders == []
