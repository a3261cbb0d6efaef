"""A render task for Dask tests whose worker dies half-way through the first attempt at a file."""

from __future__ import annotations

import os

from synth.app.batch import Job, Result, run_job


def dying_task(job: Job, describe_error=None) -> Result:
    """The first attempt ends its worker process in the middle of the render (its temporary file
    half-written on disk), as a machine that fails would; the marker file beside the output folder
    says an attempt died, so the next one renders normally."""
    marker = os.path.join(os.path.dirname(os.path.dirname(job.output)), f"died-{job.index}")
    if os.path.exists(marker):
        return run_job(job, None, describe_error)
    with open(marker, "w") as f:
        f.write(str(os.getpid()))

    def die(n_done: int, n_estimated: int) -> None:
        if n_done > 0:
            os._exit(1)

    return run_job(job, die, describe_error)
