"""Page 8: a recording (WAV, FLAC, ...) sampled into a Mode 4 voice, as the CMI's sampling card stored one."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from synth import hardware as hw
from synth.library.sampling import (
    MIN_RATE_HZ,
    Loop,
    Pitch,
    detect_pitch,
    find_loop,
    fitting_rate_hz,
    resample,
)
from synth.library.soundfont import open_soundfont
from synth.units import gain_to_db
from synth.voice import Voice, quantise

SEG = hw.SEGMENT_SAMPLES
DEFAULT_RATE_HZ = hw.PROFILES["iix"].recording_rate_hz  # 30,200 Hz, the IIx's
DEFAULT_ROOT = 60  # middle C: an unpitched sound plays at its recorded speed there
FITS = ("rate", "truncate")
# Peak after --normalize: the top 8-bit level, 127 of 128, so neither side clips.
FULL_SCALE = (2**7 - 1) / 2**7


class Page8Error(ValueError):
    """A recording that cannot become a voice: one line naming the file and the problem."""


@dataclass(frozen=True)
class ImportReport:
    """What import_recording did, for the one-line summary."""

    path: str
    in_rate_hz: int
    in_frames: int
    in_channels: int
    rate_hz: float  # the voice's recording rate
    fitted: str | None  # "rate" or "truncate" when the sound was too long for the RAM, else None
    n_used: int  # samples of wave RAM holding the sound
    pitch: Pitch | None  # when the root was detected
    loop: Loop | None
    peak_dbfs: float

    @property
    def in_seconds(self) -> float:
        return self.in_frames / self.in_rate_hz

    @property
    def kept_seconds(self) -> float:
        return self.n_used / self.rate_hz


def read_recording(path: str | os.PathLike, max_frames: int | None = None) -> tuple[np.ndarray, int, int]:
    """(mono float64 samples, rate in Hz, channels in the file): channels are averaged.

    With max_frames, only the first max_frames frames are read, however long the file is.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise Page8Error(f"{path}: is a folder, not a recording")
    if not os.path.isfile(path):
        raise Page8Error(f"{path}: no such file")
    try:
        data, rate = sf.read(path, frames=-1 if max_frames is None else max_frames, dtype="float64",
                             always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise Page8Error(f"{path}: not an audio file that can be read ({_first_line(e)})") from None
    if data.shape[0] == 0:
        raise Page8Error(f"{path}: the file holds no audio (0 frames)")
    if not np.all(np.isfinite(data)):
        raise Page8Error(f"{path}: the recording holds NaN or infinite samples")
    return data.mean(axis=1), int(rate), int(data.shape[1])


def recording_length(path: str | os.PathLike) -> tuple[int, int]:
    """(frames, rate in Hz) of a recording, from its header, without reading its samples."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise Page8Error(f"{path}: is a folder, not a recording")
    if not os.path.isfile(path):
        raise Page8Error(f"{path}: no such file")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise Page8Error(f"{path}: not an audio file that can be read ({_first_line(e)})") from None
    if info.frames <= 0:
        raise Page8Error(f"{path}: the file holds no audio (0 frames)")
    return int(info.frames), int(info.samplerate)


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def import_recording(
    path: str | os.PathLike,
    name: str,
    *,
    root: int | str = DEFAULT_ROOT,
    loop: str | tuple[int, int] = "none",
    rate_hz: float = DEFAULT_RATE_HZ,
    fit: str = "rate",
    bits: int = 8,
    normalize: bool = False,
) -> tuple[Voice, ImportReport]:
    """Sample a recording into a Mode 4 voice.

    root: a MIDI note, or "auto" to detect the pitch of the sound's steady part (nearest note).
    loop: "none", "auto" (searched on segment boundaries, see sampling.find_loop) or
    (start, end) segments, 0-based and inclusive. rate_hz: the recording rate. A sound longer
    than the RAM at that rate is fitted by `fit`: "rate" records it at the highest rate at which
    it fits (a multiple of 100 Hz, not below the card's lowest clock), "truncate" keeps the rate
    and the first 16,384 samples. Samples are quantised to `bits` as they are, or with their
    peak at full scale when `normalize`.
    """
    path = os.fspath(path)
    if fit not in FITS:
        raise Page8Error(f"fit must be one of {', '.join(FITS)}, not {fit!r}")
    # The length first, from the header: a recording far too long for the RAM is refused, or only
    # its start read, before its samples take any memory.
    in_frames, in_rate = recording_length(path)
    n_ram = hw.WAVE_RAM_SAMPLES
    fitted = None
    rate = float(rate_hz)
    keep = None
    if in_frames * rate / in_rate > n_ram:
        fitted = fit
        if fit == "rate":
            rate = float(fitting_rate_hz(in_frames, in_rate, n_ram))
            if rate < MIN_RATE_HZ:
                raise Page8Error(
                    f"{path}: {in_frames / in_rate:.1f} s would need a recording rate of {rate:,.0f} Hz to fit, "
                    f"below the card's lowest clock ({MIN_RATE_HZ:,.0f} Hz); use --fit truncate"
                )
        else:
            keep = int(np.ceil(n_ram * in_rate / rate)) + 1
    x, in_rate, in_channels = read_recording(path, keep)
    y = resample(x, in_rate, rate)[:n_ram]
    if normalize:
        peak = float(np.max(np.abs(y)))
        if peak > 0:
            y = y * (FULL_SCALE / peak)
    levels = quantise(y, bits)
    wave = np.zeros(n_ram, dtype=np.int16)
    wave[: len(levels)] = levels
    n_used = len(levels)

    pitch = None
    if root == "auto":
        pitch = detect_pitch(x, in_rate)
        if pitch is None:
            raise Page8Error(f"{path}: no steady pitch found for --root auto (a drum or a noise?); give --root NOTE")
        root_key = pitch.note
    else:
        root_key = int(root)

    found = None
    if loop == "auto":
        found = find_loop(wave, n_used)
        loop_segments = (found.start_segment, found.end_segment) if found else (None, None)
    elif loop == "none":
        loop_segments = (None, None)
    else:
        start, end = loop
        last = (n_used - 1) // SEG
        if not 0 <= start <= end <= last:
            raise Page8Error(
                f"{path}: loop {start + 1}:{end + 1} is not inside the sound's segments 1:{last + 1}"
            )
        loop_segments = (start, end)

    full = 2 ** (bits - 1)
    peak_level = int(np.max(np.abs(wave))) if n_used else 0
    voice = Voice(
        name=name, wave=wave, mode=4, bits=bits, recording_rate_hz=rate, root_key=root_key,
        loop_start_segment=loop_segments[0], loop_end_segment=loop_segments[1],
        role="user sample", source=f"sampled from {os.path.basename(path)}",
    )
    report = ImportReport(
        path=path, in_rate_hz=in_rate, in_frames=in_frames,
        in_channels=in_channels, rate_hz=rate, fitted=fitted, n_used=n_used, pitch=pitch, loop=found,
        peak_dbfs=gain_to_db(peak_level / full),
    )
    return voice, report


def import_soundfont(
    path: str | os.PathLike,
    name: str,
    *,
    program: int,
    bank: int = 0,
    key: int = 60,
    velocity: int = 100,
    rate_hz: float = DEFAULT_RATE_HZ,
    bits: int = 8,
    normalize: bool = False,
) -> Voice:
    """Sample one SoundFont preset's sample for key into a Mode 4 voice, as a recording is sampled.

    The sample's pitch correction (and its zones' tuning) is folded into the resampling, so the
    voice plays in tune at the SoundFont's root key; the SoundFont's loop is moved onto the nearest
    whole segments inside it. A sound longer than the RAM keeps its start (and a loop inside it).
    """
    s = open_soundfont(path).sample_for(program, bank, key, velocity)
    in_rate = s.rate_hz * 2.0 ** (s.pitch_correction_cents / 1200.0)
    n_ram = hw.WAVE_RAM_SAMPLES
    y = resample(s.samples.astype(np.float64), in_rate, float(rate_hz))
    ratio = float(rate_hz) / in_rate
    loop = None if s.loop is None else (int(round(s.loop[0] * ratio)), int(round(s.loop[1] * ratio)))
    if loop is not None and loop[1] > n_ram:
        # keep the attack and the whole loop: the head is cut so that the loop ends inside the RAM
        length = loop[1] - loop[0]
        if length >= n_ram - SEG:
            loop = None
        else:
            head = (n_ram - length) // SEG * SEG
            y = np.concatenate([y[:head], y[loop[0]:loop[1]]])
            loop = (head, head + length)
    y = y[:n_ram]
    if normalize:
        peak = float(np.max(np.abs(y)))
        if peak > 0:
            y = y * (FULL_SCALE / peak)
    levels = quantise(y, bits)
    wave = np.zeros(n_ram, dtype=np.int16)
    wave[: len(levels)] = levels
    n_used = len(levels)
    loop_segments: tuple[int | None, int | None] = (None, None)
    if loop is not None:
        start = int(np.ceil(loop[0] / SEG))
        end = min(loop[1] // SEG, n_used // SEG) - 1
        if 0 <= start <= end:
            loop_segments = (start, end)
    return Voice(
        name=name, wave=wave, mode=4, bits=bits, recording_rate_hz=float(rate_hz), root_key=s.root_key,
        loop_start_segment=loop_segments[0], loop_end_segment=loop_segments[1],
        role="user sample", source=f"sampled from {os.path.basename(os.fspath(path))} {bank}:{program} key {key}",
    )
