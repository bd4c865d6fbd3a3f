"""Every published network of the bnlearn repository, as pgmpy 1.0.0 ships them.

The small ones are in tests/data/bnlearn/; this script fetches the pgmpy 1.0.0 wheel with
`pip download --no-deps` (no install: that pgmpy requires PyTorch) and copies the larger
`.bif.gz` files out of it into a cache directory, printing that directory. bench/ uses it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SHIPPED = Path(__file__).resolve().parent.parent / "tests" / "data" / "bnlearn"
CACHE = Path(os.environ.get("FORECAST_BNLEARN_CACHE", Path.home() / ".cache" / "forecast-bnlearn"))
PREFIX = "pgmpy/utils/example_models/"


def all_networks(cache: Path = CACHE) -> Path:
    """A directory holding every network's .bif.gz (the shipped ones and the fetched ones)."""
    cache.mkdir(parents=True, exist_ok=True)
    if not any(cache.glob("munin.bif.gz")):
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d",
                            scratch, "pgmpy==1.0.0"], check=True)
            wheel = next(Path(scratch).glob("pgmpy-1.0.0-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.startswith(PREFIX) and name.endswith(".bif.gz"):
                        (cache / Path(name).name).write_bytes(archive.read(name))
    for shipped in SHIPPED.glob("*.bif.gz"):
        target = cache / shipped.name
        if not target.exists():
            target.write_bytes(shipped.read_bytes())
    return cache


if __name__ == "__main__":
    print(all_networks())
