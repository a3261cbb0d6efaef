"""Rendering a batch on a Dask cluster: the same jobs and the same worker code as --jobs, on other machines.

`--dask ADDRESS` names a running scheduler (tcp://host:8786), `--dask local:N` starts a LocalCluster of
N worker processes on this machine for the batch. Each row is one task, rendered by synth.app.batch.run_job
as a local process would (so the bytes are the same); a task's failure is a Result with its message.
A worker that dies while rendering (killed, out of memory) loses nothing: the scheduler gives the task
to another worker, up to its `distributed.scheduler.allowed-failures` (3 by default), and the
render's temporary files are removed before the next attempt. `distributed` is imported only here,
only when --dask is given.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence

from synth.app.batch import BatchError, Job, Result, run_job
from synth.errors import one_line

INSTALL_HINT = "pip install 'liquidsky[dask]'"
LOCAL_PREFIX = "local:"
LOCAL_WORKERS_MAX = 64
CONNECT_TIMEOUT_S = 20.0
# No dashboard, and the scheduler's own HTTP endpoints (health, metrics) on a free port rather than
# 8787, which another cluster on the machine may hold.
QUIET_HTTP = {"dashboard_address": ":0"}
# What the workers of a LocalCluster run with (see local_cluster); a cluster of your own takes it in
# its workers' Dask configuration.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def parse_address(text: str) -> tuple[str | None, int | None]:
    """'local:N' -> (None, N); a scheduler address -> (address, None). Raises BatchError on a bad one.

    >>> parse_address("local:2"), parse_address("tcp://10.0.0.5:8786")
    ((None, 2), ('tcp://10.0.0.5:8786', None))
    >>> parse_address("local:zero")
    Traceback (most recent call last):
    ...
    synth.app.batch.BatchError: --dask local:zero: N in local:N is a number of workers, 1-64
    """
    text = text.strip()
    if text.startswith(LOCAL_PREFIX):
        count = text[len(LOCAL_PREFIX):]
        if not count.isdigit() or not 1 <= int(count) <= LOCAL_WORKERS_MAX:
            raise BatchError(f"--dask {text}: N in local:N is a number of workers, 1-{LOCAL_WORKERS_MAX}")
        return None, int(count)
    if not text:
        raise BatchError("--dask: give a scheduler's address (tcp://HOST:8786) or local:N")
    return text, None


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise BatchError(f"--dask needs the distributed package: {INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def connect(address: str) -> Iterator[object]:
    """A distributed.Client for `--dask ADDRESS`, with its LocalCluster for local:N; both closed after."""
    scheduler, n_workers = parse_address(address)
    distributed = import_distributed()
    cluster = None
    try:
        if scheduler is None:
            cluster = local_cluster(n_workers)
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as e:
        if cluster is not None:
            cluster.close()
        raise BatchError(f"--dask {address}: cannot reach the scheduler ({one_line(e)})") from None
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def local_cluster(n_workers: int, silence_logs: int = logging.ERROR):
    """A LocalCluster of n_workers processes of one thread each, as `--dask local:N` starts.

    The workers' statistical profiler is off: it samples every thread's stack every 10 ms, and with
    it a render in a worker took 0.53-0.70 s where it takes 0.40 s in a plain process (a 60 s piece,
    benchmarks/README.md); without it 0.39-0.52 s.
    """
    import dask

    distributed = import_distributed()
    with dask.config.set(WORKER_CONFIG):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None, scheduler_kwargs=QUIET_HTTP,
                                        silence_logs=silence_logs)


def render_task(job: Job, describe_error=None) -> Result:
    """What a worker runs for one row: exactly what a local process runs."""
    return run_job(job, None, describe_error)


def run_jobs_dask(
    jobs: Sequence[Job],
    client,
    on_result: Callable[[Result], None],
    describe_error: Callable[[Job, BaseException], str] | None = None,
    task: Callable[..., Result] = render_task,
) -> None:
    """Render every job on the client's cluster, calling on_result as each finishes.

    Ctrl-C cancels what is left (the scheduler drops tasks not started; a worker that is rendering
    finishes or is stopped with its cluster) and is raised again.
    """
    distributed = import_distributed()
    batch = uuid.uuid4().hex[:8]
    futures = {
        client.submit(task, job, describe_error, key=f"liquidsky-render-{batch}-{job.index}", pure=False): job
        for job in jobs
    }
    try:
        for future in distributed.as_completed(futures):
            job = futures[future]
            try:
                result = future.result()
            except distributed.KilledWorker:
                result = Result(job.index, error=f"{job.source}: every worker given it died while rendering it")
            except Exception as e:  # a result that cannot come back, a lost scheduler: this row's failure
                result = Result(job.index, error=f"{job.source}: unexpected {type(e).__name__}: {one_line(e)}")
            on_result(result)
    except BaseException:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        raise
