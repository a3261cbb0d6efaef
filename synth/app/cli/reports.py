"""What the command line prints while and after it renders: progress bars and summary lines."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from synth.app.cli.options import format_clock
from synth.errors import one_line
from synth.offline import TooLongError, say_duration

if TYPE_CHECKING:
    from typing_extensions import Self


def say_limit(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:g} s"


def too_long_message(name: str, e, max_duration_s: float) -> str:
    return (f"{name}: {say_duration(e.n_frames / e.rate_hz)} of audio exceeds --max-duration "
            f"{say_limit(max_duration_s)}")


def summary_line(output: str, report, bits: int, stems_dir: str | None) -> str:
    peak = "silent" if report.peak_dbfs == float("-inf") else f"peak {report.peak_dbfs:.1f} dBFS"
    line = (f"wrote {output}: {format_clock(report.duration_s)}, {report.rate_hz} Hz, "
            f"{bits}-bit stereo, {peak}")
    if report.n_clipped:
        line += f", {report.n_clipped:,} samples clipped (use --normalize)"
    if report.notes_stolen:
        plural = "" if report.notes_stolen == 1 else "s"
        line += f", {report.notes_stolen:,} note{plural} stolen"
    if report.stem_paths:
        line += f"; {len(report.stem_paths)} stems in {stems_dir}"
    return line


def batch_error(job, e: BaseException) -> str:
    """A job's failure as one line (run in the worker: a module-level function, so it can be sent)."""
    if isinstance(e, TooLongError):
        return too_long_message(os.path.basename(job.source), e, job.options["max_frames"] / e.rate_hz)
    return one_line(e)


class Progress:
    """A tqdm bar on stderr counting seconds of audio rendered, or nothing."""

    def __init__(self, enabled: bool, rate_hz: int) -> None:
        self.enabled = enabled
        self.rate_hz = rate_hz
        self.bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, n_done: int, n_estimated: int) -> None:
        if not self.enabled:
            return
        done_s, total_s = n_done / self.rate_hz, n_estimated / self.rate_hz
        if self.bar is None:
            self.bar = tqdm(total=round(total_s, 1), unit="s", file=sys.stderr, leave=False,
                            desc="rendering", dynamic_ncols=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s of audio "
                                       "[{elapsed}<{remaining}]")
        if round(total_s, 1) != self.bar.total:
            self.bar.total = round(total_s, 1)
        self.bar.update(done_s - self.bar.n)


class BatchProgress:
    """One tqdm bar on stderr over every input of a batch, counting files (a render in progress
    counts as the part of it done), or nothing; lines printed go above the bar."""

    def __init__(self, n_files: int, enabled: bool) -> None:
        self.enabled = enabled
        self.n_files = n_files
        self.parts: dict[int, float] = {}
        self.bar = None
        if enabled:
            self.bar = tqdm(total=n_files, unit="file", file=sys.stderr, leave=False, desc="rendering",
                            dynamic_ncols=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.1f}/{total} files "
                                       "[{elapsed}<{remaining}]")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.update(sum(self.parts.values()) - self.bar.n)

    def update(self, index: int, n_done: int, n_estimated: int) -> None:
        self.parts[index] = min(1.0, n_done / n_estimated) if n_estimated > 0 else 0.0
        self._show()

    def finish(self, index: int) -> None:
        self.parts[index] = 1.0
        self._show()

    def say(self, line: str, stream) -> None:
        if self.bar is not None:
            tqdm.write(line, file=stream)
        else:
            print(line, file=stream, flush=True)
