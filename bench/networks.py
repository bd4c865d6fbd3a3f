"""`forecast network import`, `report` and `export` on published networks, as users meet them:
a new `forecast` process per command, beside a cold pyAgrum script on the same file (load it,
LazyPropagation, every posterior).

    python bench/networks.py                        # the bnlearn networks in tests/data/bnlearn
    python bench/networks.py asia alarm andes       # some of them
    python bench/networks.py --all                  # also the large ones (scripts/bnlearn_networks.py)

For each network: the BIF file pyAgrum reads, then the same network written by pyAgrum as XDSL,
DSL, NET and UAI, each imported and reported; then `export` to each format. Per row: the
command's wall-clock seconds and, where it refused, its one line. Nothing here asserts: it
prints a Markdown table for bench/README.md.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tests" / "data" / "bnlearn"
FORMATS = ("bif", "xdsl", "dsl", "net", "uai")
EXPORTS = ("bif", "xdsl", "net", "uai")
# pyAgrum's junction tree of link needs more memory than the machine has: the peer gets at most
# this much address space and fails, rather than taking the machine down with it.
PEER_MEMORY = 6 * 2**30
PEER = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
start = time.perf_counter()
import pyagrum as gum
bn = gum.loadBN(sys.argv[1])
engine = gum.LazyPropagation(bn)
engine.makeInference()
_ = [engine.posterior(n) for n in bn.nodes()]
print(time.perf_counter() - start)
"""


def run(args: list[str], root: Path) -> tuple[float, str]:
    """(wall seconds, "" or the command's first stderr line when it failed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "FORECAST_ROOT": str(root)}
    start = time.perf_counter()
    done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
        return wall, lines[-1][:140] if "Traceback" in done.stderr else lines[0][:140]
    return wall, ""


def forecast(root: Path, *args: str) -> tuple[float, str]:
    return run([sys.executable, "-m", "forecast", *args], root)


def network_files(names: list[str], every: bool) -> dict[str, Path]:
    folder = SHIPPED
    if every:
        sys.path.insert(0, str(REPO / "scripts"))
        from bnlearn_networks import all_networks

        folder = all_networks()
    found = {p.name.removesuffix(".bif.gz"): p for p in sorted(folder.glob("*.bif.gz"))}
    return {n: found[n] for n in (names or found)}


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--all"]
    files = network_files(args, "--all" in sys.argv)
    print("| network | format | nodes | import (s) | report (s) | pyAgrum cold (s) | note |")
    print("|---|---|---:|---:|---:|---:|---|")
    import pyagrum as gum

    for name, packed in files.items():
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
            scratch = Path(scratch)
            source = scratch / f"{name}.bif"
            source.write_bytes(gzip.decompress(packed.read_bytes()))
            try:
                bn = gum.loadBN(str(source))
            except Exception as error:      # noqa: BLE001 - pyAgrum's own parse error
                print(f"| {name} | bif | | | | | pyAgrum does not read it: "
                      f"{str(error).splitlines()[0][:100]} |", flush=True)
                continue
            for fmt in FORMATS:
                path = source if fmt == "bif" else scratch / f"{name}.{fmt}"
                if fmt != "bif":
                    try:
                        gum.saveBN(bn, str(path))
                    except Exception as error:  # noqa: BLE001 - pyAgrum's own refusal
                        print(f"| {name} | {fmt} | {bn.size()} | | | | pyAgrum does not write it: "
                              f"{str(error).splitlines()[0][:100]} |", flush=True)
                        continue
                root = scratch / f"root-{fmt}"
                root.mkdir()
                peer, peer_note = run([sys.executable, "-c", PEER, str(path), str(PEER_MEMORY)], root)
                imported, note = forecast(root, "network", "import", str(path), "--id", name)
                report, report_note = (0.0, "not imported")
                if not note:
                    report, report_note = forecast(root, "report", "--scenario", name, "--no-cache",
                                                   "--format", "json")
                shown = note or report_note or peer_note
                print(f"| {name} | {fmt} | {bn.size()} | {imported:.2f} | "
                      f"{report:.2f} | {peer:.2f} | {shown} |", flush=True)
                if fmt == "bif" and not note:
                    for out in EXPORTS:
                        wall, out_note = forecast(root, "network", "export", "--scenario", name,
                                                  "--format", out, "-o", str(scratch / f"out.{out}"))
                        print(f"| {name} | export {out} | {bn.size()} | {wall:.2f} | | | "
                              f"{out_note} |", flush=True)


if __name__ == "__main__":
    main()
