"""The CMI's models and the arithmetic of its clocks, every constant with its source.

Sources: MAME's channel-card device (src/mame/fairlight/cmi01a.cpp) and driver
(src/mame/fairlight/cmi.cpp); "Fairlight Explained" (1984-85); owners' notes.
Where a number is a guess it says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# --- Wave RAM ---------------------------------------------------------------------------------
# Each channel card holds 16 KiB of 8-bit sample RAM (cmi01a.cpp: 0x4000 bytes per card),
# addressed as 128 segments of 128 bytes: the low 7 address bits count samples inside a
# segment and the segment/loop logic acts when they wrap 127 -> 0.
SEGMENT_SAMPLES = 128
N_SEGMENTS = 128
WAVE_RAM_SAMPLES = SEGMENT_SAMPLES * N_SEGMENTS  # 16,384

# Mode 1 (Page 4 harmonic voices) plays 32 single-cycle segments in turn (Fairlight Explained).
# Which 32 of the 128 is not fixed by our sources; we use segments 0-31 (a choice).
MODE1_SEGMENTS = 32

# --- Clocks -------------------------------------------------------------------------------------
# The master oscillator: MOSC = (3840 + T) * 4186 Hz, T the 8-bit master tune (cmi.cpp).
# 4186 Hz is 34.291712 MHz / 2 / 4096, and it is also C8, so at T = 256 (one past the top)
# the card clocks fall exactly on the C grid: base clock 2093 Hz = 128 x C0.
MOSC_STEP_HZ = 4186
MOSC_OFFSET = 3840
MASTER_TUNE_MAX = 255
MASTER_TUNE_DEFAULT = 255  # the highest setting: -0.42 cent, as close to concert pitch as the card goes
# Card clock f_s = MOSC * (1024 + P) * 2**O / 2**23, P the 10-bit pitch word, O the 3-bit octave.
PITCH_WORD_STEPS = 1024
OCTAVE_MAX = 7
CLOCK_DIVISOR = 2**23

# The envelope counter steps once every 2 * (N + 1) / 502,625 s for timer value N (cmi01a.cpp:
# the envelope timer runs from the 502.625 kHz clock, and a step takes two of its periods).
ENVELOPE_CLOCK_HZ = 502_625.0
ENVELOPE_MAX = 255

# Mode 1 segment timer base: 251.3 kHz (half of the envelope clock); a segment lasts about
# 50 ms by default (Fairlight Explained), 12,566 ticks of that clock.
SEGMENT_TIMER_HZ = ENVELOPE_CLOCK_HZ / 2
SEGMENT_TIME_DEFAULT_S = 0.050

# The 7497 rate multiplier of the exponential curve passes M = 4 * floor(level / 16) + 3 of
# every 64 timer clocks when decaying (mirrored when attacking) (cmi01a.cpp).
RATE_MULTIPLIER_CLOCKS = 64
# Which level picks M is not settled by the sources (MAME versions differ in the curve's details):
# "before" reads the counter before each step (a full decay 255 -> 0 takes 3.81x the linear time),
# "after" reads it after (3.89x, the "about 3.9x" of docs/hardware.md). A setting of the engine
# (Engine(envelope_level_read=...)); "before" is the default, which the factory voices were voiced with.
ENVELOPE_LEVEL_READS = ("before", "after")
ENVELOPE_LEVEL_READ_DEFAULT = "before"

# MAME mixes each of the 8 cards at 1/8 (cmi.cpp mixer); we keep that per-card scale.
CARD_MIX_GAIN = 1.0 / 8.0


@dataclass(frozen=True)
class Profile:
    """One CMI model: what a user chooses with --model."""

    name: str
    title: str
    n_voices: int
    bits: int
    recording_rate_hz: float
    wave_ram_samples: int = WAVE_RAM_SAMPLES

    @property
    def wave_ram_bytes(self) -> int:
        return self.wave_ram_samples * self.bits // 8


PROFILES: dict[str, Profile] = {
    "i": Profile("i", "Series I (1979)", 8, 8, 24_000.0),
    # Series II: 30.2 kHz (also quoted as 32 kHz); library exports are 30.2 kHz.
    "ii": Profile("ii", "Series II (1982)", 8, 8, 30_200.0),
    "iix": Profile("iix", "Series IIx (1983)", 8, 8, 30_200.0),
    # Series III: 16 voices, 16-bit, 50 kHz. Its RAM per voice was much larger and is not
    # established by our sources; we keep the 128 x 128 addressing (a guess, a setting).
    "iii": Profile("iii", "Series III (1985)", 16, 16, 50_000.0),
}
DEFAULT_PROFILE = "iix"


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown model {name!r} (choose from {', '.join(PROFILES)})") from None


def master_clock_hz(master_tune: int = MASTER_TUNE_DEFAULT) -> float:
    """MOSC for master tune T (0..255)."""
    return (MOSC_OFFSET + master_tune) * MOSC_STEP_HZ


def card_clock_hz(octave: int, pitch_word: int, master_tune: int = MASTER_TUNE_DEFAULT) -> float:
    """The sample clock of one card for octave O and pitch word P."""
    return master_clock_hz(master_tune) * (PITCH_WORD_STEPS + pitch_word) * 2**octave / CLOCK_DIVISOR


def master_tune_cents(master_tune: int) -> float:
    """How far master tune T moves every pitch: -111.7 cents at T=0, -0.42 at T=255."""
    return 1200.0 * math.log2((MOSC_OFFSET + master_tune) / (MOSC_OFFSET + 256))


def pitch_word(clock_hz: float) -> tuple[int, int]:
    """(octave, pitch word) nearest to a card clock at concert pitch.

    The clock is placed on the C grid of T = 256 (128 x C0 = 2093 Hz per octave base), so an
    equal-tempered note n semitones above C gets P = round(1024 * (2**(n/12) - 1)), as the
    CMI's own pitch table; master tune then shifts every note alike. P is linear in frequency
    inside an octave, so the error is at most half a step: 0.85 cent at the bottom of an
    octave, 0.42 at the top. Clocks outside the card's range clamp to its ends.
    """
    base_hz = master_clock_hz(256) * PITCH_WORD_STEPS / CLOCK_DIVISOR
    ratio = clock_hz / base_hz
    if ratio < 1.0:
        return 0, 0
    octave = int(math.floor(math.log2(ratio)))
    if octave > OCTAVE_MAX:
        return OCTAVE_MAX, PITCH_WORD_STEPS - 1
    word = int(round(PITCH_WORD_STEPS * (ratio / 2**octave - 1.0)))
    if word >= PITCH_WORD_STEPS:
        octave, word = octave + 1, 0
        if octave > OCTAVE_MAX:
            return OCTAVE_MAX, PITCH_WORD_STEPS - 1
    return octave, word


def quantised_clock_hz(clock_hz: float, master_tune: int = MASTER_TUNE_DEFAULT) -> float:
    """The clock the card really runs at when asked for clock_hz (concert pitch)."""
    octave, word = pitch_word(clock_hz)
    return card_clock_hz(octave, word, master_tune)


def envelope_step_s(timer_value: int) -> float:
    """Seconds per envelope step for timer value N: 2 (N + 1) / 502,625."""
    return 2.0 * (timer_value + 1) / ENVELOPE_CLOCK_HZ


def envelope_timer_for(ramp_s: float) -> int:
    """The timer value N whose full linear 0..255 ramp lasts closest to ramp_s."""
    n = round(ramp_s / (ENVELOPE_MAX * 2.0 / ENVELOPE_CLOCK_HZ)) - 1
    return max(0, min(255 * 256 - 1, n))


def segment_timer_ticks(seconds: float) -> int:
    """Mode 1 segment time in ticks of the 251.3 kHz timer."""
    return max(1, round(seconds * SEGMENT_TIMER_HZ))


# --- The analog filter ---------------------------------------------------------------------------
# 4-pole, 24 dB/oct, non-resonant (CEM3320 or SSM2045 by board revision). The real cutoff law is
# not documented: ours is exponential, FILTER 0 = 200 Hz to FILTER 126 = 20 kHz (a choice), and
# 127 is "wide open" (the filter is bypassed). Kept here and nowhere else.
FILTER_MAX = 127
FILTER_LOW_HZ = 200.0
FILTER_HIGH_HZ = 20_000.0


def filter_cutoff_hz(setting: float) -> float:
    """Cutoff for a Page 7 FILTER value (fractional values allowed, for key tracking)."""
    s = min(max(setting, 0.0), FILTER_MAX - 1)
    return FILTER_LOW_HZ * (FILTER_HIGH_HZ / FILTER_LOW_HZ) ** (s / (FILTER_MAX - 1))


# Four equal poles: each is -3 dB at its cutoff, so the four together are -12 dB there; their -3 dB
# point is where (1 + (f / fc)^2)^4 = 2, at sqrt(2^(1/4) - 1) = 0.435 of the poles' cutoff.
FILTER_MINUS_3DB_PER_POLE_CUTOFF = math.sqrt(2.0 ** 0.25 - 1.0)


def filter_minus_3db_hz(setting: float) -> float:
    """Where the 4-pole filter at this FILTER setting is 3 dB down (0.435 of each pole's cutoff)."""
    return filter_cutoff_hz(setting) * FILTER_MINUS_3DB_PER_POLE_CUTOFF


# FILTER units per octave of the law above: key tracking of 1.0 moves the cutoff with the pitch.
FILTER_UNITS_PER_OCTAVE = (FILTER_MAX - 1) / math.log2(FILTER_HIGH_HZ / FILTER_LOW_HZ)
