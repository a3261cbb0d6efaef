"""Streaming WAV/FLAC writer: bounded memory, atomic, deterministic."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from synth.units import db_to_gain, gain_to_db

if TYPE_CHECKING:
    from typing_extensions import Self

FORMATS = {".wav": "WAV", ".flac": "FLAC"}
SUBTYPES = {16: "PCM_16", 24: "PCM_24"}

# Frames per read/write when a staged float file is converted at close: 65,536 stereo float32
# frames is 512 KiB, small enough to keep memory flat and large enough to keep the pass fast.
CONVERT_BLOCK_FRAMES = 65_536

# Frames gathered before they are converted and handed to libsndfile: the offline render gives a block
# per stretch between two events (a few hundred frames), and each soundfile call costs tens of
# microseconds whatever its size. 16,384 stereo float32 frames is 128 KiB.
PENDING_FRAMES = 16_384

# A RIFF WAV counts its bytes in 32 bits; keep a margin for the header chunks.
WAV_MAX_DATA_BYTES = 2**32 - 1 - 1024


class SinkError(ValueError):
    """An output file that cannot be written as asked."""


def output_format(path: str | os.PathLike) -> str:
    """The soundfile format name for an output path ('WAV' or 'FLAC'), from its extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise SinkError(f"{os.fspath(path)}: unsupported output format (use .wav or .flac)")
    return fmt


class AudioFileWriter:
    """Writes float blocks to a 16- or 24-bit WAV/FLAC file, which appears only when complete.

    Audio goes to a hidden temporary file beside the target (".NAME.partial-XXXX"); `close()`
    renames it onto the target in one step (os.replace), so a reader never sees half a file
    and an existing file is replaced only by a finished one. Leaving the `with` block by an
    exception (KeyboardInterrupt included) removes the temporary files and leaves the target
    as it was.

    Samples are clipped to the format's range [-1, 1) and counted when they hit it; they are
    rounded, not dithered, so the same samples always give the same bytes.

    With `normalize_dbfs` set (or `defer_gain=True`) the float blocks are first kept in a
    temporary 32-bit float file and scaled while converting at close: by the gain that puts
    the peak at `normalize_dbfs`, or by the gain passed to `close(gain=...)` (so that stems
    can share the gain of their mix). Silence stays silence.

    Properties: `peak` (largest magnitude as written, before clipping; with a deferred gain it
    is final only after close), `peak_dbfs`, `input_peak` (before any gain), `gain`,
    `n_clipped`, `n_frames`.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        rate_hz: int,
        n_channels: int,
        bits: int = 16,
        *,
        normalize_dbfs: float | None = None,
        defer_gain: bool = False,
    ) -> None:
        self.path = Path(path)
        self._name = os.fspath(path)
        self._format = output_format(path)
        if bits not in SUBTYPES:
            raise SinkError(f"{self._name}: {bits}-bit output is not offered (use 16 or 24)")
        if n_channels < 1:
            raise ValueError(f"n_channels must be at least 1, not {n_channels}")
        self.rate_hz = int(rate_hz)
        self.n_channels = int(n_channels)
        self.bits = bits
        self.normalize_dbfs = normalize_dbfs
        self._staged = normalize_dbfs is not None or defer_gain
        self._bytes_per_frame = self.n_channels * bits // 8

        self._input_peak = 0.0
        self._gain = 1.0
        self._n_clipped = 0
        self._n_frames = 0
        self._pending: list[np.ndarray] = []  # blocks written but not yet in the file
        self._n_pending = 0
        self._closed = False
        self._final: sf.SoundFile | None = None
        self._final_tmp: str | None = None
        self._stage: sf.SoundFile | None = None
        self._stage_tmp: str | None = None

        directory = self.path.parent
        if self.path.is_dir():
            raise SinkError(f"{self._name}: is a folder, not a file name")
        if not directory.is_dir():
            if directory.exists():
                raise SinkError(f"{self._name}: {os.fspath(directory)} is a file, not a folder")
            raise SinkError(f"{self._name}: the folder {os.fspath(directory)} does not exist")
        try:
            if self._staged:
                # RF64, not WAV: the float stage of a long render may pass the 4 GiB RIFF limit.
                self._stage_tmp, self._stage = self._open_temp("float", "RF64", "FLOAT")
            else:
                self._final_tmp, self._final = self._open_temp("partial", self._format, SUBTYPES[bits])
        except BaseException:
            self.abort()
            raise

    # --- the context manager --------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # --- properties -------------------------------------------------------------------------------

    @property
    def input_peak(self) -> float:
        """Largest magnitude handed to write(), before any gain or clipping."""
        return self._input_peak

    @property
    def gain(self) -> float:
        """The gain applied to the samples (1.0, or the normalising gain once closed)."""
        return self._gain

    @property
    def peak(self) -> float:
        """Largest magnitude of the samples as they go into the file, before clipping."""
        return self._input_peak * self._gain

    @property
    def peak_dbfs(self) -> float:
        """`peak` in dB relative to full scale; -inf for silence."""
        return gain_to_db(self.peak)

    @property
    def n_clipped(self) -> int:
        """Samples (not frames) that hit the format's range and were clipped."""
        return self._n_clipped

    @property
    def n_frames(self) -> int:
        return self._n_frames

    @property
    def closed(self) -> bool:
        return self._closed

    # --- writing ------------------------------------------------------------------------------------

    def write(self, block: np.ndarray) -> None:
        """Append a float block of shape (n_frames, n_channels) (or (n_frames,) when mono)."""
        if self._closed:
            raise ValueError(f"{self._name}: write after close")
        a = np.asarray(block, dtype=np.float32)
        if a.ndim == 1 and self.n_channels == 1:
            a = a[:, np.newaxis]
        if a.ndim != 2 or a.shape[1] != self.n_channels:
            raise ValueError(f"expected a block of shape (n, {self.n_channels}), got {a.shape}")
        n = a.shape[0]
        if n == 0:
            return
        high, low = float(a.max()), float(a.min())  # two passes, no temporary |a|
        if not (math.isfinite(high) and math.isfinite(low)):
            raise SinkError(f"{self._name}: the audio holds NaN or infinite samples")
        peak = max(high, -low)
        if self._format == "WAV" and (self._n_frames + n) * self._bytes_per_frame > WAV_MAX_DATA_BYTES:
            hours = WAV_MAX_DATA_BYTES / self._bytes_per_frame / self.rate_hz / 3600
            raise SinkError(
                f"{self._name}: too long for a WAV file (4 GiB, {hours:.1f} hours here); use .flac"
            )
        self._input_peak = max(self._input_peak, peak)
        self._pending.append(np.array(a, dtype=np.float32, order="C"))  # a copy: callers reuse their buffers
        self._n_pending += n
        self._n_frames += n
        if self._n_pending >= PENDING_FRAMES:
            try:
                self._flush_pending()
            except (sf.SoundFileError, OSError) as e:
                raise SinkError(f"{self._name}: writing failed ({_reason(e)})") from e

    def _flush_pending(self) -> None:
        if not self._pending:
            return
        a = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        self._pending.clear()
        self._n_pending = 0
        if self._staged:
            self._stage.write(a)
        else:
            self._write_pcm(self._final, a, 1.0)

    def _write_pcm(self, f: sf.SoundFile, a: np.ndarray, gain: float) -> None:
        # Our own rounding and clipping instead of libsndfile's float conversion, which wraps
        # around on overs unless told otherwise and scales by 0x7FFF in some versions.
        full_scale = float(2 ** (self.bits - 1))
        if gain == 1.0:
            # float32 is exact here: scaling by a power of two only moves the exponent.
            q = np.rint(a * np.float32(full_scale))
        else:
            q = np.rint(a * np.float64(gain * full_scale))
        hi, lo = full_scale - 1.0, -full_scale
        if q.max() > hi or q.min() < lo:
            self._n_clipped += int(np.count_nonzero(q > hi)) + int(np.count_nonzero(q < lo))
            np.clip(q, lo, hi, out=q)
        if self.bits == 16:
            f.write(q.astype(np.int16))
        else:
            # libsndfile keeps the top 24 bits of an int32 sample for PCM_24.
            f.write(q.astype(np.int32) << 8)

    def normalizing_gain(self) -> float:
        """The gain that brings the peak to `normalize_dbfs` (1.0 without it, or for silence)."""
        if self.normalize_dbfs is None or self._input_peak == 0.0:
            return 1.0
        return db_to_gain(self.normalize_dbfs) / self._input_peak

    def close(self, gain: float | None = None) -> None:
        """Finish the file and move it onto the target. Closing twice does nothing.

        `gain` applies only to a staged writer (normalize_dbfs or defer_gain); by default it is
        the normalising gain.
        """
        if self._closed:
            return
        try:
            self._flush_pending()
            if self._staged:
                self._gain = self.normalizing_gain() if gain is None else float(gain)
                self._convert_stage()
            elif gain is not None and gain != 1.0:
                raise ValueError("a gain at close needs normalize_dbfs or defer_gain")
            self._final.close()
            os.chmod(self._final_tmp, _new_file_mode(self.path))
            os.replace(self._final_tmp, self.path)
            self._final_tmp = None
        except (sf.SoundFileError, OSError) as e:
            self.abort()
            raise SinkError(f"{self._name}: writing failed ({_reason(e)})") from e
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def _convert_stage(self) -> None:
        self._stage.close()
        self._final_tmp, self._final = self._open_temp("partial", self._format, SUBTYPES[self.bits])
        with sf.SoundFile(self._stage_tmp, mode="r") as stage:
            while True:
                a = stage.read(CONVERT_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if a.shape[0] == 0:
                    break
                self._write_pcm(self._final, a, self._gain)
        os.remove(self._stage_tmp)
        self._stage_tmp = None

    def abort(self) -> None:
        """Drop everything written so far; the target stays as it was."""
        self._pending.clear()
        self._n_pending = 0
        for f in (self._stage, self._final):
            if f is not None and not f.closed:
                # A broken handle must not keep its file from being removed.
                with contextlib.suppress(sf.SoundFileError, OSError):
                    f.close()
        for tmp in (self._stage_tmp, self._final_tmp):
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
        self._stage_tmp = self._final_tmp = None
        self._closed = True

    def _open_temp(self, kind: str, fmt: str, subtype: str) -> tuple[str, sf.SoundFile]:
        # Beside the target, so the final os.replace is a rename within one file system.
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.{kind}-", dir=self.path.parent)
        except OSError as e:
            where = os.fspath(self.path.parent)
            raise SinkError(f"{self._name}: cannot write in {where} ({_reason(e)})") from e
        try:
            f = sf.SoundFile(
                fd, mode="w", samplerate=self.rate_hz, channels=self.n_channels,
                format=fmt, subtype=subtype, closefd=True,
            )
        except BaseException:
            with contextlib.suppress(OSError):  # soundfile may have closed it already
                os.close(fd)
            os.remove(tmp)
            raise
        return tmp, f


def _new_file_mode(path: Path) -> int:
    """Permissions for the finished file: those of the file it replaces, else the umask's."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    text = str(e).strip()
    if text.rstrip(".").lower().endswith("system error"):
        # libsndfile's whole account of a failed write() (ENOSPC, EFBIG): the usual cause is a full disk.
        return "a system error: is the disk full?"
    return text or type(e).__name__


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes to a file through a temporary file beside it, renamed in one step when complete.

    A failure (a full disk, Ctrl-C) leaves the target as it was and no temporary file behind.
    """
    target = Path(path)
    name = os.fspath(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as e:
        raise SinkError(f"{name}: cannot write in {os.fspath(target.parent)} ({_reason(e)})") from e
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
