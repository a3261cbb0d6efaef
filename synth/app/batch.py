"""Rendering several inputs into a folder, one after another or in parallel processes, past bad files."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue as queue_module
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.app import outputs
from synth.app.sources import builtin_names, cards_of, open_source, piece_voice_set
from synth.errors import one_line, user_errors
from synth.hardware import DEFAULT_PROFILE
from synth.catalog import parse_channel_voice
from synth.midifile import pack_events
from synth.offline import render_to_file

MIDI_SUFFIXES = (".mid", ".midi")
FORMATS = ("wav", "flac")

# A worker reports its progress at most this often (a choice: smooth enough for a bar, and a few
# messages a second whatever the block size).
PROGRESS_INTERVAL_S = 0.2
# How long stopping waits for a worker to remove its temporary files and exit.
STOP_TIMEOUT_S = 30.0
EXIT_TERMINATED = 143  # 128 + SIGTERM

ProgressCallback = Callable[[int, int, int], None]  # (job index, frames done, frames estimated)


class BatchError(ValueError):
    """A set of inputs or an output folder that cannot be rendered as asked: one line saying why."""


@dataclass(frozen=True)
class Job:
    """One input to render to one output file; `options` are render_to_file's keyword arguments."""

    index: int
    source: str
    output: str
    options: dict[str, Any] = field(default_factory=dict)
    voice: tuple[str, ...] = ()
    program_map: str | None = None
    stems_dir: str | None = None
    style: str | None = None  # arrange the input in this style first (scores.styles)
    seed: int = 0
    tempo_scale: float = 1.0


@dataclass(frozen=True)
class Result:
    """What became of a Job: its report, or the one-line message of its failure."""

    index: int
    report: Any = None  # synth.offline.RenderReport
    error: str | None = None
    traceback: str | None = None  # for --debug
    sha256: str | None = None  # of the output file's bytes

    @property
    def ok(self) -> bool:
        return self.error is None


def expand_inputs(sources: Sequence[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The inputs a command line names: files and built-in pieces as given, and each folder's MIDI
    files (*.mid, *.midi, any case), sorted, not looking into subfolders.

    Returns (inputs, problems): a folder without MIDI files is a problem, (the folder, one line
    saying so), not an input.
    """
    inputs: list[str] = []
    problems: list[tuple[str, str]] = []
    for source in sources:
        if source not in builtin_names() and os.path.isdir(source):
            found = sorted(
                os.fspath(p) for p in Path(source).iterdir()
                if p.suffix.lower() in MIDI_SUFFIXES and p.is_file()
            )
            if not found:
                problems.append((source, f"{source}: a folder with no .mid or .midi files"))
            inputs.extend(found)
        else:
            inputs.append(source)
    return inputs, problems


def output_name(source: str, fmt: str) -> str:
    """The file an input is written to inside the output folder: its name without the suffix."""
    stem = source if source in builtin_names() else Path(source).stem
    return f"{stem}.{fmt}"


def plan_outputs(inputs: Sequence[str], out_dir: str, fmt: str) -> list[str]:
    """Each input's output path in out_dir; two inputs that would write one file are refused."""
    if fmt not in FORMATS:
        raise BatchError(f"--format {fmt}: not offered (use {' or '.join(FORMATS)})")
    seen: dict[str, str] = {}
    outputs = []
    for source in inputs:
        name = output_name(source, fmt)
        if name in seen:
            raise BatchError(
                f"{seen[name]} and {source} would both be written to {os.path.join(out_dir, name)}; "
                "rename one or render them separately"
            )
        seen[name] = source
        outputs.append(os.path.join(out_dir, name))
    return outputs


def make_output_folder(out_dir: str) -> None:
    """Create the output folder (and its parents) if needed; a file in its place is refused."""
    if os.path.splitext(out_dir)[1].lower() in (".wav", ".flac"):
        raise BatchError(f"{out_dir}: several inputs are written to a folder, not to one audio file "
                         "(give -o a folder name)")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise BatchError(f"{out_dir}: is a file; several inputs need an output folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise BatchError(f"{out_dir}: cannot make the output folder ({(e.strerror or str(e)).lower()})") from None


# --- one job -----------------------------------------------------------------------------------------


def run_job(job: Job, progress: Callable[[int, int], None] | None = None,
            describe_error: Callable[[Job, BaseException], str] | None = None) -> Result:
    """Render one job; a failure comes back as a Result with its message, never as an exception
    (except an interruption, which stops the whole batch)."""
    try:
        cards = cards_of(job.options.get("model", DEFAULT_PROFILE), job.options.get("n_voices"))
        name, midi = open_source(job.source, job.style, seed=job.seed, tempo_scale=job.tempo_scale, voices=cards)
        # Packed, and the parsed file let go: the render's memory hardly grows with the song.
        events = pack_events(midi, job.options["rate_hz"])
        del midi
        every = None
        channels: dict[int, str] = {}
        for text in job.voice:
            channel, voice_name = parse_channel_voice(text)
            if channel is None:
                every = voice_name
            else:
                channels[channel] = voice_name
        voices = piece_voice_set(job.source, program_map_path=job.program_map, voice=every, channel_voices=channels)
        # A render of this output that died half-way (a worker killed) may have left its temporary files.
        outputs.remove_stale_temps(job.output)
        with outputs.local_target(job.output) as path:
            report = render_to_file(events, path, progress=progress, name=name, voices=voices,
                                    stems_dir=job.stems_dir, **job.options)
            checksum = outputs.sha256(path)
        return Result(job.index, report=report, sha256=checksum)
    except Exception as e:
        import traceback

        if isinstance(e, user_errors()):
            message = describe_error(job, e) if describe_error is not None else one_line(e)
        else:
            message = f"{job.source}: unexpected {type(e).__name__}: {one_line(e)} (run with --debug for the traceback)"
        if job.source not in message and os.path.basename(job.source) not in message:
            message = f"{job.source}: {message}"
        return Result(job.index, error=message, traceback=traceback.format_exc())


# --- many jobs ---------------------------------------------------------------------------------------


def run_jobs(
    jobs: Sequence[Job],
    n_workers: int,
    on_result: Callable[[Result], None],
    on_progress: ProgressCallback | None = None,
    describe_error: Callable[[Job, BaseException], str] | None = None,
) -> None:
    """Render every job, calling on_result as each finishes (in the order they finish).

    One worker renders in this process; more render in as many processes (started fresh, not
    forked, so that no thread of ours is copied half-way). Ctrl-C or SIGTERM here stops
    every worker: each removes its temporary files before it exits, and the interruption is raised
    again once they are gone.
    """
    if n_workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            def progress(done: int, estimated: int, index: int = job.index) -> None:
                if on_progress is not None:
                    on_progress(index, done, estimated)

            on_result(run_job(job, progress, describe_error))
        return
    _run_in_processes(jobs, min(n_workers, len(jobs)), on_result, on_progress, describe_error)


def _run_in_processes(jobs, n_workers, on_result, on_progress, describe_error) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=_worker_start,
                               initargs=(queue,))
    futures = {pool.submit(_worker_job, job, describe_error): job for job in jobs}
    pending = set(futures)
    try:
        while pending:
            done, pending = wait(pending, timeout=PROGRESS_INTERVAL_S, return_when=FIRST_COMPLETED)
            _drain(queue, on_progress)
            for future in done:
                job = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    result = Result(job.index, error=f"{job.source}: the process rendering it stopped unexpectedly")
                except Exception as e:  # the result could not come back (pickling, say): a bug, but one file's
                    result = Result(job.index, error=f"{job.source}: unexpected {type(e).__name__}: {one_line(e)}")
                on_result(result)
        pool.shutdown(wait=True)
    except BaseException:
        _stop(pool, futures)
        raise
    finally:
        queue.close()
        queue.join_thread()


def _drain(queue, on_progress: ProgressCallback | None) -> None:
    while True:
        try:
            index, done, estimated = queue.get_nowait()
        except (queue_module.Empty, OSError, ValueError, EOFError):
            return
        if on_progress is not None:
            on_progress(index, done, estimated)


def _stop(pool, futures) -> None:
    """Cancel what has not started and end the workers (SIGTERM: each aborts its writers), then wait."""
    for future in futures:
        future.cancel()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if process.is_alive():
                process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
            process.join(max(0.0, deadline - time.monotonic()))
    with contextlib.suppress(Exception):
        pool.shutdown(wait=True, cancel_futures=True)


# --- inside a worker process --------------------------------------------------------------------------

_progress_queue = None
_in_job = False
_stopping = False


def _on_sigterm(signum, frame) -> None:
    # An idle worker leaves at once. One that is rendering is only told to stop: the next block's
    # progress call raises, an ordinary exception in ordinary code, so that its writers remove
    # their temporary files. Raising from the handler itself could land inside that clean-up (the
    # pool sends SIGTERM again when a sibling exits) or inside a finaliser that swallows it.
    global _stopping
    _stopping = True
    if not _in_job:
        os._exit(EXIT_TERMINATED)


def _worker_start(queue) -> None:
    global _progress_queue
    _progress_queue = queue
    # Ctrl-C in a terminal reaches every process of the group: the parent alone decides, and stops
    # the workers with SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_sigterm)


class _Stopped(BaseException):
    """The parent asked this worker to stop (not an Exception: run_job lets it through)."""


def _worker_job(job: Job, describe_error) -> Result:
    global _in_job
    last = [0.0]

    def progress(done: int, estimated: int) -> None:
        if _stopping:
            raise _Stopped
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S or done >= estimated:
            last[0] = now
            with contextlib.suppress(OSError, ValueError):
                _progress_queue.put((job.index, done, estimated))

    _in_job = True
    try:
        if _stopping:
            raise _Stopped
        return run_job(job, progress, describe_error)
    except _Stopped:
        # The render has cleaned up after itself; leave rather than go back for another job.
        sys.stderr.flush()
        os._exit(EXIT_TERMINATED)
    finally:
        _in_job = False
        if _stopping:
            os._exit(EXIT_TERMINATED)
