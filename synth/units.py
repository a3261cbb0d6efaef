"""Unit conversions: the only place where one unit becomes another."""

from __future__ import annotations

import math

import numpy as np

A4_HZ = 440.0
A4_NOTE = 69


def midi_to_hz(note: float) -> float:
    """Equal-tempered frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return A4_HZ * 2.0 ** ((note - A4_NOTE) / 12.0)


def hz_to_midi(freq_hz: float) -> float:
    """Fractional MIDI note number of a frequency."""
    return A4_NOTE + 12.0 * math.log2(freq_hz / A4_HZ)


def cents_to_ratio(cents: float) -> float:
    return 2.0 ** (cents / 1200.0)


def ratio_to_cents(ratio: float) -> float:
    return 1200.0 * math.log2(ratio)


def db_to_gain(gain_db: float) -> float:
    return 10.0 ** (gain_db / 20.0)


def gain_to_db(gain: float) -> float:
    """Level in dB of a linear gain; silence is -inf."""
    return 20.0 * math.log10(gain) if gain > 0 else float("-inf")


def seconds_to_frames(seconds: float, rate_hz: float) -> int:
    return int(round(seconds * rate_hz))


def frames_to_seconds(n_frames: int, rate_hz: float) -> float:
    return n_frames / rate_hz


def amplitude_db(x: np.ndarray) -> np.ndarray:
    """Magnitudes in dB, with a floor so that zeros stay finite."""
    return 20.0 * np.log10(np.maximum(np.abs(x), 1e-12))


NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(note: int) -> str:
    """'C4' for MIDI note 60 (scientific pitch notation)."""
    return f"{NOTE_NAMES[note % 12]}{note // 12 - 1}"


def parse_note(text: str) -> int:
    """MIDI note number from '60', 'C4', 'F#3' or 'Bb2'."""
    s = text.strip()
    if s.lstrip("-").isdigit():
        n = int(s)
    else:
        letter = s[:1].upper()
        if letter not in "CDEFGAB" or not letter:
            raise ValueError(f"not a note: {text!r}")
        rest = s[1:]
        shift = 0
        while rest[:1] in ("#", "b"):
            shift += 1 if rest[0] == "#" else -1
            rest = rest[1:]
        try:
            octave = int(rest)
        except ValueError:
            raise ValueError(f"not a note: {text!r}") from None
        n = NOTE_NAMES.index(letter) + shift + 12 * (octave + 1)
    if not 0 <= n <= 127:
        raise ValueError(f"note out of the MIDI range 0-127: {text!r}")
    return n
