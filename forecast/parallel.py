"""Many independent tasks, in process or on Dask (README, "Verification and bulk work on more
than one process").

Verification and bulk work (SBC simulations, reference draws, backtest replays, sensitivity rows,
cross-validation folds) is a list of tasks, each a pure function of what every task shares and
of its own item. `Where` says where they run: in this process (the default; Dask is then never
imported), on `workers` local processes (a `dask.distributed.LocalCluster`), or on the running
cluster at `scheduler`. `tasks(where)` opens that place once per command, and its `map` returns
the results in task order whichever worker finished first, so a command that derives each task's
seed from its own seed and the task's index (`task_seeds`) gives the same numbers, bit for bit,
wherever its tasks ran. Dask retries a task whose worker died, and a task is pure, so a retried
task gives the same result.

What every task shares goes to each worker once (`map(..., shared)`), and what a task builds
from it at a cost is kept per process, keyed by structure (a compiled NUTS model:
`nuts.sampler_for`; a junction tree: `exact.structure_of`), so a worker builds it once for all the
tasks it runs. Nothing here prints: progress is reported through a callback (done, total).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import fail, problem

INSTALL_HINT = 'pip install "forecast[distributed]"'
# How long `--scheduler ADDRESS` waits for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 5
# A task whose worker dies is run again on another; after this many deaths Dask gives up on it
# (distributed's own default is 3).
ALLOWED_FAILURES = 3

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Where:
    """Where a command's tasks run: `workers` local processes, the cluster at `scheduler`, or
    (neither) in this process."""

    workers: int | None = None
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and self.scheduler is not None:
            raise problem(None, None, "--workers", "give --workers or --scheduler, not both")
        if self.workers is not None and self.workers < 1:
            raise problem(None, None, "--workers", f"expected at least 1 worker, found {self.workers}")

    @property
    def in_process(self) -> bool:
        return self.workers is None and self.scheduler is None

    @property
    def option(self) -> str:
        return "--workers" if self.workers is not None else "--scheduler"


IN_PROCESS = Where()


def task_seeds(seed: int, n: int, stream: int = 0) -> list[np.random.SeedSequence]:
    """One independent seed per task, from the command's seed and the task's index alone (never
    from which worker runs it). `stream` keeps two kinds of task in one command (SBC
    simulations, reference draws) apart; stream 0 is `SeedSequence(seed).spawn(n)`."""
    root = np.random.SeedSequence(seed if stream == 0 else [seed, stream])
    return root.spawn(n)


class InProcess:
    """Tasks one after another in this process."""

    where = IN_PROCESS

    def map(self, function: Callable, items: Sequence, shared: Any = None,
            progress: Progress | None = None) -> list:
        """[function(shared, item) for item in items], reporting each finished task."""
        if progress:
            progress(0, len(items))
        results = []
        for item in items:
            results.append(function(shared, item))
            if progress:
                progress(len(results), len(items))
        return results


def _identity(value: Any) -> Any:
    return value


class OnDask:
    """Tasks on a dask.distributed client; results gathered in task order."""

    def __init__(self, client, where: Where) -> None:
        self.client = client
        self.where = where

    def map(self, function: Callable, items: Sequence, shared: Any = None,
            progress: Progress | None = None) -> list:
        """function(shared, item) for every item on the cluster; `shared` goes to each worker
        once, not once per task (so what is large belongs in it, or split among the items)."""
        from distributed import KilledWorker, as_completed

        if not items:
            return []
        # `shared` as the result of a task, not scattered: Dask can compute it again if the
        # worker holding it dies (scattered data would be lost with it)
        common = self.client.submit(_identity, shared, pure=False)
        if progress:
            progress(0, len(items))          # the stage's clock starts now, not at its first result
        futures = self.client.map(function, [common] * len(items), list(items), pure=False)
        try:
            done = 0
            for future in as_completed(futures):
                if future.status == "error":
                    future.result()          # raises the task's own exception
                done += 1
                if progress:
                    progress(done, len(items))
            return self.client.gather(futures)
        except KilledWorker:
            raise problem(None, None, self.where.option, f"a task ended {ALLOWED_FAILURES} worker "
                          "processes in turn (out of memory?), so it was given up") from None
        finally:
            self.client.cancel([*futures, common])


Runner = InProcess | OnDask


@contextlib.contextmanager
def tasks(where: Where = IN_PROCESS) -> Iterator[Runner]:
    """A place to run a command's tasks, open for the command's duration. In process: Dask is
    not imported. Otherwise a missing Dask or an unreachable scheduler is a user error, raised
    before any work is done (so nothing is written)."""
    if where.in_process:
        yield InProcess()
        return
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise problem(None, None, where.option, f"needs Dask: {INSTALL_HINT}") from None
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                          "distributed.worker.daemon": False}):
        if where.workers is not None:
            # localhost only; its HTTP server on a free port (with None it still takes 8787)
            with LocalCluster(n_workers=where.workers, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address="127.0.0.1:0",
                              silence_logs=logging.ERROR) as cluster, \
                    Client(cluster) as client:
                yield OnDask(client, where)
            return
        try:
            client = Client(where.scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except ValueError:
            raise fail(None, None, "--scheduler", "a Dask scheduler's address such as "
                       "tcp://HOST:8786", where.scheduler) from None
        except (OSError, TimeoutError):
            raise problem(None, None, "--scheduler", f"cannot reach a Dask scheduler at "
                          f"{where.scheduler} within {CONNECT_TIMEOUT_S} s") from None
        with client:
            yield OnDask(client, where)
