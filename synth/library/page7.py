"""Page 7: a voice's control parameters as a front edits them, checked, and the envelope they draw."""

from __future__ import annotations

from collections.abc import Mapping

from synth import hardware as hw
from synth.voice import CURVES, MODES, Voice, VoiceError

# Every Page 7 parameter a front may set, with its kind and range. Segments are 0-based here, as
# synth.voice keeps them; the page shows them 1-based as the CMI counted them.
PARAMETERS: dict[str, tuple[type, object, object]] = {
    "mode": (int, 1, 4),
    "attack_timer": (int, 0, 0xFFFF),
    "decay_timer": (int, 0, 0xFFFF),
    "sustain_level": (int, 0, hw.ENVELOPE_MAX),
    "damping_timer": (int, 0, 0xFFFF),
    "curve": (str, None, None),
    "volume": (int, 0, 255),
    "filter": (int, 0, hw.FILTER_MAX),
    "filter_key_tracking": (float, 0.0, 2.0),  # 1.0: the cutoff follows the key an octave per octave
    "root_key": (int, 0, 127),
    "start_segment": (int, 0, hw.N_SEGMENTS - 1),
    "loop_start_segment": (int, 0, hw.N_SEGMENTS - 1),
    "loop_end_segment": (int, 0, hw.N_SEGMENTS - 1),
    "segment_time_s": (float, 0.001, 2.0),  # 1 ms .. 2 s a segment (a choice; the CMI's range was not recovered)
}
# Loop ends may be None (no loop).
NULLABLE = ("loop_start_segment", "loop_end_segment")


def _value(name: str, value: object) -> object:
    kind, low, high = PARAMETERS[name]
    if value is None and name in NULLABLE:
        return None
    if kind is str:
        if value not in CURVES:
            raise VoiceError(f"{name} must be one of {', '.join(CURVES)}, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise VoiceError(f"{name} must be a number, not {value!r}")
    if kind is int:
        if int(value) != value:
            raise VoiceError(f"{name} must be a whole number, not {value!r}")
        value = int(value)
    else:
        value = float(value)
    if not low <= value <= high:
        raise VoiceError(f"{name} must be {low}..{high}, not {value}")
    if name == "mode" and value not in MODES:
        raise VoiceError(f"mode must be 1 or 4, not {value!r}")
    return value


def set_parameters(voice: Voice, changes: Mapping[str, object]) -> Voice:
    """A copy of the voice with Page 7 parameters changed; VoiceError names an unknown or bad one.

    A start segment or a loop that no longer fits the mode (Mode 1 has 32 segments) is refused by
    the voice's own checks.
    """
    unknown = sorted(set(changes) - set(PARAMETERS))
    if unknown:
        raise VoiceError(f"unknown Page 7 parameter {unknown[0]!r} (known: {', '.join(PARAMETERS)})")
    checked = {name: _value(name, value) for name, value in changes.items()}
    return voice.with_params(**checked)


def parameters(voice: Voice) -> dict[str, object]:
    """The voice's Page 7 parameters, as set_parameters takes them."""
    return {name: getattr(voice, name) for name in PARAMETERS}


def _step_s(timer: int, level: int, rising: bool, curve: str) -> float:
    """Time of one envelope step at `level` (hardware.envelope_step_s; the 7497 multiplier when exponential).

    Decaying, the multiplier passes M = 4 * floor(level / 16) + 3 of every 64 clocks
    (docs/hardware.md, Envelope); attacking, the same law mirrored about the middle of the range.
    """
    step = hw.envelope_step_s(timer)
    if curve != "exponential":
        return step
    at = hw.ENVELOPE_MAX - level if rising else level
    passed = 4 * (at // 16) + 3
    return step * hw.RATE_MULTIPLIER_CLOCKS / passed


def _ramp_s(timer: int, start: int, end: int, curve: str) -> list[tuple[float, int]]:
    """(seconds from the ramp's start, level) at every 16th level from start to end."""
    points = []
    t = 0.0
    direction = 1 if end > start else -1
    level = start
    while level != end:
        t += _step_s(timer, level, direction > 0, curve)
        level += direction
        if level % 16 == 0 or level == end:
            points.append((t, level))
    return points


def envelope_points(voice: Voice, hold_s: float = 0.5) -> list[tuple[float, int]]:
    """The envelope counter over time for a key held `hold_s` after the attack and decay, then released.

    (seconds, level 0..255) at the corners and every 16th level between: attack from 0 to 255,
    decay to the sustain level, the hold, then DAMPING to 0. Mode 1's segment steps are not in it.
    """
    points: list[tuple[float, int]] = [(0.0, 0)]

    def add(ramp: list[tuple[float, int]]) -> None:
        t0 = points[-1][0]
        points.extend((t0 + t, level) for t, level in ramp)

    add(_ramp_s(voice.attack_timer, 0, hw.ENVELOPE_MAX, voice.curve))
    add(_ramp_s(voice.decay_timer, hw.ENVELOPE_MAX, voice.sustain_level, voice.curve))
    points.append((points[-1][0] + hold_s, voice.sustain_level))
    add(_ramp_s(voice.damping_timer, voice.sustain_level, 0, voice.curve))
    return points
