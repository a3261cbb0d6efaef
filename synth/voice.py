"""Voice: one patch, the wave RAM image of a channel card and its Page 7 parameters. Frozen."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from synth import hardware as hw

MODES = (1, 4)
CURVES = ("linear", "exponential")


class VoiceError(ValueError):
    """A voice whose data or parameters the card cannot play."""


@dataclass(frozen=True, eq=False)
class Voice:
    """A patch. Shared by every card that plays it; never changed while notes sound.

    `wave` holds the signed sample levels of the wave RAM (the card's DAC reads offset binary;
    level = byte - 128 for 8-bit voices), exactly `hardware.WAVE_RAM_SAMPLES` long.
    Mode 4 plays segments in order from `start_segment`, looping `loop_start_segment` ..
    `loop_end_segment` (inclusive, whole segments) when a loop is set; Mode 1 plays segments
    0..31 as single cycles, each for `segment_time_s`, looping likewise when set.
    Envelope timers are the counter's timer values N: one step each 2 (N + 1) / 502,625 s.
    """

    name: str
    wave: np.ndarray
    mode: int = 4
    bits: int = 8
    recording_rate_hz: float = 30_200.0
    root_key: int = 60
    start_segment: int = 0
    loop_start_segment: int | None = None
    loop_end_segment: int | None = None
    attack_timer: int = 0
    decay_timer: int = 0
    sustain_level: int = hw.ENVELOPE_MAX
    damping_timer: int = 60
    curve: str = "linear"
    volume: int = 255
    filter: int = hw.FILTER_MAX
    filter_key_tracking: float = 0.0
    segment_time_s: float = hw.SEGMENT_TIME_DEFAULT_S
    role: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        wave = np.asarray(self.wave)
        if wave.shape != (hw.WAVE_RAM_SAMPLES,):
            raise VoiceError(
                f"voice {self.name!r}: wave RAM must hold {hw.WAVE_RAM_SAMPLES} samples, not {wave.shape}"
            )
        if self.bits not in (8, 16):
            raise VoiceError(f"voice {self.name!r}: bits must be 8 or 16, not {self.bits!r}")
        lo, hi = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        if not np.issubdtype(wave.dtype, np.integer) or wave.min() < lo or wave.max() > hi:
            raise VoiceError(f"voice {self.name!r}: samples must be {self.bits}-bit integers in {lo}..{hi}")
        wave = wave.astype(np.int16)
        wave.setflags(write=False)
        object.__setattr__(self, "wave", wave)
        if self.mode not in MODES:
            raise VoiceError(f"voice {self.name!r}: mode must be 1 or 4, not {self.mode!r}")
        if self.curve not in CURVES:
            raise VoiceError(f"voice {self.name!r}: curve must be one of {CURVES}, not {self.curve!r}")
        n_seg = hw.MODE1_SEGMENTS if self.mode == 1 else hw.N_SEGMENTS
        if not 0 <= self.start_segment < n_seg:
            raise VoiceError(f"voice {self.name!r}: start segment {self.start_segment} outside 0..{n_seg - 1}")
        if (self.loop_start_segment is None) != (self.loop_end_segment is None):
            raise VoiceError(f"voice {self.name!r}: a loop needs both a start and an end segment")
        if self.loop_start_segment is not None and not (
            0 <= self.loop_start_segment <= self.loop_end_segment < n_seg
        ):
            raise VoiceError(
                f"voice {self.name!r}: loop {self.loop_start_segment}..{self.loop_end_segment} "
                f"is not inside segments 0..{n_seg - 1}"
            )
        for name in ("attack_timer", "decay_timer", "damping_timer"):
            if not 0 <= getattr(self, name) <= 0xFFFF:
                raise VoiceError(f"voice {self.name!r}: {name} must be 0..65535")
        if not 0 <= self.sustain_level <= hw.ENVELOPE_MAX:
            raise VoiceError(f"voice {self.name!r}: sustain level must be 0..255")
        if not 0 <= self.volume <= 255:
            raise VoiceError(f"voice {self.name!r}: volume must be 0..255")
        if not 0 <= self.filter <= hw.FILTER_MAX:
            raise VoiceError(f"voice {self.name!r}: filter must be 0..127")
        if not 0 <= self.root_key <= 127:
            raise VoiceError(f"voice {self.name!r}: root key must be 0..127")
        if not self.recording_rate_hz > 0 or not self.segment_time_s > 0:
            raise VoiceError(f"voice {self.name!r}: rates and times must be positive")

    @property
    def looped(self) -> bool:
        return self.loop_start_segment is not None

    @cached_property
    def levels(self) -> np.ndarray:
        """The DAC's output for each RAM sample, full scale = 1.0 (float32)."""
        out = self.wave.astype(np.float32) / np.float32(2 ** (self.bits - 1))
        out.setflags(write=False)
        return out

    def with_params(self, **changes) -> Voice:
        """A copy with some Page 7 parameters changed."""
        return replace(self, **changes)

    def segments(self) -> np.ndarray:
        """The wave RAM as (128 segments, 128 samples)."""
        return self.wave.reshape(hw.N_SEGMENTS, hw.SEGMENT_SAMPLES)


def quantise(signal: np.ndarray, bits: int = 8) -> np.ndarray:
    """Float samples in -1..1 to signed integer levels, as the CMI's sampler stored them."""
    full = 2 ** (bits - 1)
    return np.clip(np.round(np.asarray(signal, dtype=np.float64) * full), -full, full - 1).astype(np.int16)


def single_cycle_voice(name: str, cycles: np.ndarray, **params) -> Voice:
    """A Mode 1 voice from up to 32 single cycles of 128 samples each (floats in -1..1).

    Unused segments repeat the last cycle, so a short list still fills RAM sensibly.
    """
    cycles = np.atleast_2d(np.asarray(cycles, dtype=np.float64))
    if cycles.shape[1] != hw.SEGMENT_SAMPLES or not 1 <= cycles.shape[0] <= hw.MODE1_SEGMENTS:
        raise VoiceError(f"voice {name!r}: need 1-32 cycles of {hw.SEGMENT_SAMPLES} samples")
    bits = params.get("bits", 8)
    ram = np.zeros((hw.N_SEGMENTS, hw.SEGMENT_SAMPLES), dtype=np.int16)
    q = quantise(cycles, bits)
    ram[: len(q)] = q
    ram[len(q) : hw.MODE1_SEGMENTS] = q[-1]
    params.setdefault("mode", 1)
    return Voice(name=name, wave=ram.reshape(-1), **params)


def sampled_voice(name: str, samples: np.ndarray, **params) -> Voice:
    """A Mode 4 voice from float samples in -1..1 at the recording rate; longer input is cut."""
    bits = params.get("bits", 8)
    ram = np.zeros(hw.WAVE_RAM_SAMPLES, dtype=np.int16)
    q = quantise(np.asarray(samples)[: hw.WAVE_RAM_SAMPLES], bits)
    ram[: len(q)] = q
    params.setdefault("mode", 4)
    return Voice(name=name, wave=ram, **params)
