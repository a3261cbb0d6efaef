"""The built-in voices: a small set made from scratch that covers every General MIDI family."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np

from synth import hardware as hw
from synth.library import page4
from synth.library.page4 import decaying_profile, interpolate_profiles, profile_voice
from synth.units import midi_to_hz
from synth.voice import Voice, sampled_voice

# Mode 4 sounds are modelled at the IIx recording rate, as its library exports were.
RATE_HZ = hw.PROFILES["iix"].recording_rate_hz
N_SAMPLES = hw.WAVE_RAM_SAMPLES
SEG = hw.SEGMENT_SAMPLES
LAST_SEGMENT = hw.MODE1_SEGMENTS - 1

# cmi-model.md: a full decay on the exponential curve takes 3.9 times as long as on the linear one.
EXPONENTIAL_STRETCH = 3.9
# Raised-cosine fade at the start of every Mode 4 sound: 48 samples = 1.6 ms at 30.2 kHz, enough
# that a noise burst does not start with a step, short enough to keep the attack (a choice).
FADE_IN_SAMPLES = 48
# Fade at the end of unlooped Mode 4 sounds, so they reach 0 inside the 16,384 samples (a choice).
FADE_OUT_SAMPLES = 3072
# Peak of every Mode 4 sound, as page4 uses for cycles: the top 8-bit level, nothing clips.
FULL_SCALE = page4.FULL_SCALE
# Unpitched sounds have no pitch to name; they play at their recorded speed on middle C.
UNPITCHED_ROOT = 60

H = np.arange(1, page4.N_HARMONICS + 1, dtype=np.float64)  # harmonic numbers 1..32


# --- Page 7 helpers ----------------------------------------------------------------------------


def _timer(seconds: float, curve: str = "linear") -> int:
    """Envelope timer value for a full 0..255 ramp lasting about `seconds` on `curve`."""
    if curve == "exponential":
        seconds /= EXPONENTIAL_STRETCH
    return hw.envelope_timer_for(seconds)


def _filter_for(cutoff_hz: float) -> int:
    """The Page 7 FILTER value whose cutoff (hardware.filter_cutoff_hz) is nearest to cutoff_hz.

    Voices name their cutoff in Hz rather than copying factory settings (often about 20): the
    real cutoff law is unknown, and under ours a setting of 20 would be near 400 Hz.
    """
    settings = range(hw.FILTER_MAX)  # 127 is "open", not a cutoff
    return min(settings, key=lambda s: abs(math.log(hw.filter_cutoff_hz(s) / cutoff_hz)))


def _decaying(curve_s: float, damping_s: float) -> dict:
    """Page 7 for struck and plucked voices: the envelope falls to 0 while the key is held."""
    return dict(
        attack_timer=0,
        decay_timer=_timer(curve_s, "exponential"),
        sustain_level=0,
        damping_timer=_timer(damping_s, "exponential"),
        curve="exponential",
    )


def _sustaining(attack_s: float, damping_s: float) -> dict:
    return dict(attack_timer=_timer(attack_s), damping_timer=_timer(damping_s), curve="linear")


def _periodic_shimmer(seed: int, n_segments: int, depth: float) -> np.ndarray:
    """Per-harmonic gain (n_segments, 32) that wanders by +-depth and returns to its start.

    Each harmonic moves through a whole number of sine periods over the loop, so the segment
    after the last one looped is the first again: a slow ensemble shimmer without a seam.
    """
    rng = np.random.default_rng(seed)
    cycles = rng.integers(1, 3, size=H.size)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=H.size)
    s = np.arange(n_segments)[:, None]
    return 1.0 + depth * np.sin(2.0 * np.pi * cycles * s / n_segments + phase)


# --- Mode 1 voices (Page 4 harmonic profiles) ------------------------------------------------------


def _plain(name: str, spectrum: np.ndarray, role: str) -> Voice:
    return profile_voice(
        name,
        spectrum[None, :],
        loop_start_segment=0,
        loop_end_segment=0,
        filter=hw.FILTER_MAX,
        damping_timer=_timer(0.01),
        role=role,
        source="page4 harmonic profile (one segment)",
    )


def _sine() -> Voice:
    return _plain("sine", np.eye(1, page4.N_HARMONICS)[0], "test: pure sine")


def _square() -> Voice:
    return _plain("square", np.where(H % 2 == 1, 1.0 / H, 0.0), "test: square, odd harmonics 1/h")


def _saw() -> Voice:
    return _plain("saw", 1.0 / H, "test: sawtooth, all harmonics 1/h")


def _piano() -> Voice:
    # Hammer near 1/7.5 of the string: harmonics near 7-8 weaker; upper harmonics fade faster.
    spectrum = (0.25 + 0.75 * np.abs(np.sin(np.pi * H / 7.5))) / H
    profile = decaying_profile(spectrum, 0.55 * (1.0 + 0.3 * (H - 1.0)))
    return profile_voice(
        "piano",
        profile,
        segment_time_s=0.08,
        loop_start_segment=LAST_SEGMENT,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(7000.0),
        role="acoustic piano",
        **_decaying(curve_s=7.0, damping_s=0.25),
    )


def _epiano() -> Voice:
    # A tine: strong fundamental, a little octave, a brief metallic bark around harmonics 7-14.
    spectrum = np.zeros_like(H)
    spectrum[:6] = [1.0, 0.3, 0.12, 0.06, 0.03, 0.015]
    spectrum[[6, 7, 13]] = [0.22, 0.08, 0.06]
    decay = np.full_like(H, 2.5)
    decay[:2] = [0.35, 0.7]
    profile = decaying_profile(spectrum, decay)
    return profile_voice(
        "epiano",
        profile,
        segment_time_s=0.06,
        loop_start_segment=LAST_SEGMENT,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(6000.0),
        role="electric piano, celesta, vibraphone",
        **_decaying(curve_s=6.0, damping_s=0.3),
    )


def _mallet() -> Voice:
    # Marimba bars are tuned so their second mode is the 4th harmonic; the third lies near the 10th.
    spectrum = np.zeros_like(H)
    spectrum[[0, 3, 9]] = [1.0, 0.5, 0.15]
    decay = np.full_like(H, 1.0)
    decay[[3, 9]] = [3.0, 6.0]
    return profile_voice(
        "mallet",
        decaying_profile(spectrum, decay),
        segment_time_s=0.03,
        loop_start_segment=LAST_SEGMENT,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(8000.0),
        role="marimba, xylophone, kalimba, steel drum",
        **_decaying(curve_s=1.5, damping_s=0.2),
    )


def _guitar() -> Voice:
    # Plucked at a fifth of the string: every 5th harmonic is missing; brightness fades fast.
    spectrum = (0.1 + np.abs(np.sin(np.pi * H / 5.0))) / H
    spectrum[4::5] = 0.0
    profile = decaying_profile(spectrum, 0.7 * (1.0 + 0.35 * (H - 1.0)))
    return profile_voice(
        "guitar",
        profile,
        segment_time_s=0.06,
        loop_start_segment=LAST_SEGMENT,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(6000.0),
        role="plucked string: guitar, harp, harpsichord, sitar",
        **_decaying(curve_s=4.0, damping_s=0.15),
    )


def _bass() -> Voice:
    spectrum = H**-1.2 * np.exp(-H / 10.0)
    profile = decaying_profile(spectrum, 0.25 * (1.0 + 0.4 * (H - 1.0)))
    return profile_voice(
        "bass",
        profile,
        segment_time_s=0.07,
        loop_start_segment=LAST_SEGMENT,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(2500.0),
        role="electric and synth bass",
        **_decaying(curve_s=6.0, damping_s=0.08),
    )


def _organ() -> Voice:
    # Drawbars 8', 4', 2 2/3', 2', 1 3/5', 1' and a percussion on the 3rd harmonic that fades.
    drawbars = np.zeros_like(H)
    drawbars[[0, 1, 2, 3, 4, 7, 9, 11, 15]] = [1.0, 0.7, 0.5, 0.45, 0.15, 0.3, 0.1, 0.1, 0.08]
    percussion = np.zeros_like(H)
    percussion[2] = 0.7
    n = 9
    fade = np.exp(-np.arange(n) / 2.0)[:, None]
    fade[-1] = 0.0
    profile = drawbars[None, :] + fade * percussion[None, :]
    return profile_voice(
        "organ",
        profile,
        loop_start_segment=n - 1,
        loop_end_segment=n - 1,
        filter=_filter_for(9000.0),
        role="drawbar organ, accordion",
        **_sustaining(attack_s=0.005, damping_s=0.03),
    )


def _strings() -> Voice:
    # Bowed string: sawtooth-like, a body resonance near the 5th harmonic, shimmering in the loop.
    steady = H**-1.0 * np.exp(-H / 24.0) * (1.0 + 0.6 * np.exp(-(((H - 5.0) / 2.5) ** 2)))
    loop = steady[None, :] * _periodic_shimmer(11, 24, 0.2)
    # Segments 0..7 brighten towards the first looped segment, 8..31 shimmer in the loop.
    attack = interpolate_profiles({0: 0.5 * steady * np.exp(-(H - 1.0) / 1.5), 8: loop[0]}, n_segments=9)
    profile = np.vstack([attack[:8], loop])
    return profile_voice(
        "strings",
        profile,
        loop_start_segment=8,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(5000.0),
        role="string section, solo strings",
        **_sustaining(attack_s=0.25, damping_s=0.4),
    )


def _brass() -> Voice:
    # Brass brightens as the lips start to buzz, then settles a little.
    bright = H**-0.9 * np.exp(-H / 16.0)
    profile = interpolate_profiles({0: 0.4 * H**-3.0, 3: bright, 6: 0.9 * bright * np.exp(-H / 40.0)}, 7)
    return profile_voice(
        "brass",
        profile,
        loop_start_segment=6,
        loop_end_segment=6,
        filter=_filter_for(6000.0),
        role="trumpet, trombone, horn, brass section",
        **_sustaining(attack_s=0.04, damping_s=0.12),
    )


def _reed() -> Voice:
    # Clarinet-like: odd harmonics strong, even ones weak, rolling off above the 12th.
    steady = np.where(H % 2 == 1, 1.0, 0.08) / H * np.exp(-np.maximum(H - 12.0, 0.0) / 4.0)
    profile = interpolate_profiles({0: steady * np.exp(-(H - 1.0) / 2.0), 3: steady}, 4)
    return profile_voice(
        "reed",
        profile,
        loop_start_segment=3,
        loop_end_segment=3,
        filter=_filter_for(5000.0),
        role="clarinet, saxophone, oboe, bassoon",
        **_sustaining(attack_s=0.03, damping_s=0.1),
    )


def _flute() -> Voice:
    steady = np.zeros_like(H)
    steady[:5] = [1.0, 0.22, 0.1, 0.04, 0.02]
    # A breathy chiff: scattered upper harmonics that die away in the first segments. Their
    # random signs (phase 0 or pi) keep the chiff from adding up to one spike per cycle.
    rng = np.random.default_rng(7)
    chiff = rng.uniform(0.0, 0.08, size=H.size) * (H >= 6)
    signs = np.where((H >= 6) & (rng.uniform(size=H.size) < 0.5), np.pi, 0.0)
    profile = interpolate_profiles({0: 0.7 * steady + chiff, 3: steady}, 4)
    return profile_voice(
        "flute",
        profile,
        phases=signs,
        loop_start_segment=3,
        loop_end_segment=3,
        filter=_filter_for(5000.0),
        role="flute, recorder, pan pipe, whistle",
        **_sustaining(attack_s=0.06, damping_s=0.12),
    )


def _lead() -> Voice:
    # A pulse whose width sweeps 12%..48% and back over the 32 segments: the loop has no seam.
    s = np.arange(page4.N_SEGMENTS)[:, None]
    duty = 0.30 - 0.18 * np.cos(2.0 * np.pi * s / page4.N_SEGMENTS)
    profile = (0.05 + np.abs(np.sin(np.pi * H[None, :] * duty))) / H[None, :]
    return profile_voice(
        "lead",
        profile,
        loop_start_segment=0,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(9000.0),
        role="synth lead: pulse sweeping to square",
        **_sustaining(attack_s=0.005, damping_s=0.08),
    )


def _pad() -> Voice:
    # A soft saw whose brightness rises and falls over the loop, shimmering as it goes.
    s = np.arange(page4.N_SEGMENTS)[:, None]
    brightness = 5.0 + 3.0 * np.sin(2.0 * np.pi * s / page4.N_SEGMENTS)
    profile = np.exp(-H[None, :] / brightness) / H[None, :] * _periodic_shimmer(13, page4.N_SEGMENTS, 0.15)
    return profile_voice(
        "pad",
        profile,
        segment_time_s=0.12,
        loop_start_segment=0,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(4000.0),
        role="warm synth pad",
        **_sustaining(attack_s=0.6, damping_s=1.0),
    )


def _choir() -> Voice:
    # "Aah" formants (about 700, 1150, 2600 Hz) placed for a voice near 240 Hz. Page 4 harmonics
    # move with the note, so the formants do too: the Mode 1 choir's own character.
    f0_hz = 240.0
    log_h = np.log2(H)
    envelope = 0.08 + sum(
        g * np.exp(-0.5 * ((log_h - math.log2(f / f0_hz)) / 0.25) ** 2)
        for f, g in ((700.0, 1.0), (1150.0, 0.6), (2600.0, 0.25))
    )
    steady = envelope * H**-0.5
    loop = steady[None, :] * _periodic_shimmer(17, 26, 0.25)
    attack = interpolate_profiles({0: 0.3 * steady * np.exp(-(H - 1.0) / 2.0), 6: loop[0]}, n_segments=7)
    profile = np.vstack([attack[:6], loop])
    return profile_voice(
        "choir",
        profile,
        loop_start_segment=6,
        loop_end_segment=LAST_SEGMENT,
        filter=_filter_for(5000.0),
        role="choir aahs, voice oohs",
        source="page4 harmonic profile (formant-shaped)",
        **_sustaining(attack_s=0.15, damping_s=0.4),
    )


# --- Mode 4 voices (modelled sounds at 30.2 kHz) --------------------------------------------------


def _seconds(n: int = N_SAMPLES) -> np.ndarray:
    return np.arange(n) / RATE_HZ


def _raised_cosine(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


def _finish(x: np.ndarray, fade_out: bool = True) -> np.ndarray:
    """Fade in (and out), remove DC without moving the ends, normalise to full scale."""
    x = np.array(x, dtype=np.float64)
    x[:FADE_IN_SAMPLES] *= _raised_cosine(FADE_IN_SAMPLES)
    if fade_out:
        x[-FADE_OUT_SAMPLES:] *= _raised_cosine(FADE_OUT_SAMPLES)[::-1]
        # DC goes out as a bump that is 0 at both ends: a sub-audio shape, and no new click.
        bump = np.sin(np.pi * np.arange(x.size) / x.size) ** 2
        x -= bump * (x.sum() / bump.sum())
    return x * (FULL_SCALE / np.max(np.abs(x)))


def _shaped_noise(rng: np.random.Generator, n: int, low_hz: float, high_hz: float) -> np.ndarray:
    """White noise through a 4-pole band pass (a magnitude mask); unit RMS, no DC, period n."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / RATE_HZ)
    with np.errstate(divide="ignore"):
        mask = 1.0 / np.sqrt((1.0 + (low_hz / f) ** 8) * (1.0 + (f / high_hz) ** 8))
    mask[0] = 0.0
    y = np.fft.irfft(spectrum * mask, n)
    return y / np.sqrt(np.mean(y**2))


def _partials(t: np.ndarray, partials: list[tuple[float, float, float]]) -> np.ndarray:
    """Sum of decaying sines (freq_hz, amplitude, decay time constant s), all from phase 0."""
    x = np.zeros_like(t)
    for freq_hz, amplitude, tau_s in partials:
        x += amplitude * np.exp(-t / tau_s) * np.sin(2.0 * np.pi * freq_hz * t)
    return x


def _swept_sine(t: np.ndarray, start_hz: float, end_hz: float, sweep_s: float) -> np.ndarray:
    """A sine gliding exponentially-in-time from start_hz to end_hz (a drum head settling)."""
    phase = end_hz * t + (start_hz - end_hz) * sweep_s * (1.0 - np.exp(-t / sweep_s))
    return np.sin(2.0 * np.pi * phase)


def _mode4(name: str, x: np.ndarray, root_key: int, role: str, source: str, **params) -> Voice:
    return sampled_voice(
        name, x, root_key=root_key, recording_rate_hz=RATE_HZ, role=role, source=source, **params
    )


# A church bell's partials over its strike tone (the "prime"): hum an octave below, minor-third
# tierce, quint, nominal and upper partials, each at its own non-integer ratio, the higher ones
# dying faster. (ratio to the prime, amplitude, decay time constant in s)
BELL_PARTIALS = (
    (0.5, 0.5, 0.16),
    (1.0, 1.0, 0.14),
    (1.183, 0.5, 0.11),
    (1.506, 0.3, 0.09),
    (2.0, 0.6, 0.08),
    (2.514, 0.3, 0.06),
    (2.662, 0.25, 0.05),
    (3.011, 0.2, 0.04),
    (4.166, 0.15, 0.03),
    (5.433, 0.1, 0.02),
)


def _bell() -> Voice:
    root = 72  # the prime at C5
    f_hz = midi_to_hz(root)
    t = _seconds()
    x = _partials(t, [(ratio * f_hz, a, tau_s) for ratio, a, tau_s in BELL_PARTIALS])
    strike = _shaped_noise(np.random.default_rng(21), t.size, 2000.0, 9000.0) * np.exp(-t / 0.004)
    x += 0.15 * strike
    return _mode4(
        "bell",
        _finish(x),
        root,
        "bells: tubular, glockenspiel, music box, agogo, triangle",
        "modal synthesis",
        filter=_filter_for(10000.0),
        meta={"pitch_hz": f_hz},
        **_decaying(curve_s=8.0, damping_s=1.5),
    )


def _orchestra_hit() -> Voice:
    # A tutti chord (C major spread over three octaves), struck and let go: the role of the
    # Fairlight orchestra hit, made from band-limited sawtooths, each with detuned doubles.
    root = 60
    t = _seconds()
    table_n = 4096
    harmonics = np.arange(1, 60)
    x = np.zeros_like(t)
    for note, gain in ((48, 1.0), (55, 0.8), (60, 0.9), (64, 0.6), (67, 0.6), (72, 0.5)):
        f_hz = midi_to_hz(note)
        keep = harmonics[harmonics * f_hz < 7000.0]
        spectrum = np.zeros(table_n // 2 + 1, dtype=complex)
        spectrum[keep] = -1j * (table_n / 2) / keep * np.exp(-keep / 20.0)
        table = np.fft.irfft(spectrum, table_n)  # one cycle of a sine-phase, darkened saw
        for cents in (-6.0, 0.0, 6.0):
            # Table lookup with linear interpolation: 4096 points per cycle keep its error
            # far below the 8-bit floor, and the phase comes from t, so the pitch is exact.
            pos = (t * f_hz * 2.0 ** (cents / 1200.0) % 1.0) * table_n
            i = pos.astype(np.int64)
            frac = pos - i
            x += gain * ((1.0 - frac) * table[i] + frac * table[(i + 1) % table_n])
    x *= np.exp(-t / 0.16)
    blat = _shaped_noise(np.random.default_rng(23), t.size, 300.0, 4000.0) * np.exp(-t / 0.03)
    x += 0.8 * np.std(x) * blat
    return _mode4(
        "orchhit",
        _finish(x),
        root,
        "orchestra hit (C major chord)",
        "additive model (sawtooth chord)",
        filter=_filter_for(9000.0),
        meta={"pitch_hz": midi_to_hz(root)},
        **_decaying(curve_s=3.0, damping_s=0.5),
    )


def _drum_params(ring_s: float = 0.6) -> dict:
    # Drum notes are often released at once; a long damping lets the sample play out.
    return dict(attack_timer=0, damping_timer=_timer(ring_s), filter=hw.FILTER_MAX)


def _kick() -> Voice:
    root = 31  # rests at G1 (49 Hz)
    f_hz = midi_to_hz(root)
    t = _seconds()
    sweep_s = 0.03
    body = _swept_sine(t, 160.0, f_hz, sweep_s) * np.exp(-t / 0.17)
    click = _shaped_noise(np.random.default_rng(31), t.size, 1000.0, 5000.0) * np.exp(-t / 0.003)
    # Its pitch is the one it settles to, once the glide (5 time constants) is over.
    meta = {"pitch_hz": f_hz, "pitch_settled_s": 5 * sweep_s}
    return _mode4(
        "kick", _finish(body + 0.12 * click), root, "bass drum", "sine sweep and noise model",
        meta=meta, **_drum_params(),
    )


def _tom() -> Voice:
    root = 45  # rests at A2 (110 Hz)
    f_hz = midi_to_hz(root)
    t = _seconds()
    sweep_s = 0.05
    body = _swept_sine(t, 1.45 * f_hz, f_hz, sweep_s) * np.exp(-t / 0.18)
    # A drum head's second mode lies near 1.59 times its first.
    overtone = 0.25 * _swept_sine(t, 1.45 * 1.59 * f_hz, 1.59 * f_hz, sweep_s) * np.exp(-t / 0.08)
    stick = _shaped_noise(np.random.default_rng(37), t.size, 500.0, 6000.0) * np.exp(-t / 0.008)
    meta = {"pitch_hz": f_hz, "pitch_settled_s": 5 * sweep_s}
    return _mode4(
        "tom", _finish(body + overtone + 0.15 * stick), root, "toms, timpani, congas, bongos",
        "sine sweep and noise model", meta=meta, **_drum_params(),
    )


def _snare() -> Voice:
    root = 54  # the shell's first mode, F#3 (185 Hz)
    t = _seconds()
    shell = _partials(t, [(midi_to_hz(root), 0.7, 0.07), (330.0, 0.35, 0.05)])
    wires = _shaped_noise(np.random.default_rng(41), t.size, 1500.0, 9000.0) * np.exp(-t / 0.12)
    return _mode4(
        "snare", _finish(shell + 0.45 * wires), root, "snare drum", "noise model with shell modes",
        **_drum_params(),
    )


def _metal(rng: np.random.Generator, t: np.ndarray, n: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Inharmonic metallic ring: n sines at random frequencies in a band, equal level."""
    freqs = np.exp(rng.uniform(math.log(low_hz), math.log(high_hz), size=n))
    return np.sin(2.0 * np.pi * np.outer(freqs, t)).sum(axis=0) / math.sqrt(n)


def _hat(name: str, seed: int, tau_s: float, role: str) -> Voice:
    rng = np.random.default_rng(seed)
    t = _seconds()
    sizzle = _shaped_noise(rng, t.size, 6000.0, 14000.0) + 0.5 * _metal(rng, t, 6, 3000.0, 9000.0)
    return _mode4(
        name, _finish(sizzle * np.exp(-t / tau_s)), UNPITCHED_ROOT, role, "noise model", **_drum_params(0.8)
    )


def _crash() -> Voice:
    rng = np.random.default_rng(53)
    t = _seconds()
    wash = _shaped_noise(rng, t.size, 2500.0, 14000.0) * np.exp(-t / 0.25)
    ring = _metal(rng, t, 24, 1500.0, 11000.0) * np.exp(-t / 0.2)
    return _mode4(
        "crash", _finish(wash + 0.5 * ring), UNPITCHED_ROOT, "crash, splash, ride, chinese cymbals",
        "noise model", **_drum_params(1.0),
    )


def _clap() -> Voice:
    t = _seconds()
    noise = _shaped_noise(np.random.default_rng(59), t.size, 800.0, 3000.0)
    envelope = np.zeros_like(t)
    # Several hands a few milliseconds apart, then the room.
    for start_s in (0.0, 0.009, 0.019):
        after = t - start_s
        envelope += np.where(after >= 0.0, np.exp(-np.maximum(after, 0.0) / 0.004), 0.0)
    tail = t - 0.03
    envelope += np.where(tail >= 0.0, np.exp(-np.maximum(tail, 0.0) / 0.09), 0.0)
    return _mode4(
        "clap", _finish(noise * envelope), UNPITCHED_ROOT, "hand clap, guiro", "noise model", **_drum_params()
    )


def _rim() -> Voice:
    root = 93  # the stick-on-rim ring at A6 (1760 Hz)
    f_hz = midi_to_hz(root)
    t = _seconds()
    x = _partials(t, [(f_hz, 1.0, 0.018), (2.76 * f_hz, 0.3, 0.008), (520.0, 0.4, 0.03)])
    x += 0.3 * _shaped_noise(np.random.default_rng(61), t.size, 2000.0, 12000.0) * np.exp(-t / 0.003)
    return _mode4(
        "rim", _finish(x), root, "side stick, wood blocks, claves", "modal synthesis",
        meta={"pitch_hz": f_hz}, **_drum_params(),
    )


def _wind() -> Voice:
    # Band-passed noise that is periodic over the loop (segments 8..127), so the jump back from
    # the loop end continues the same noise; gusts are periodic over the loop too.
    loop_start = 8
    n_lead = loop_start * SEG
    n_loop = N_SAMPLES - n_lead
    noise = _shaped_noise(np.random.default_rng(67), n_loop, 250.0, 2500.0)
    gusts = 1.0 + 0.35 * np.sin(2.0 * np.pi * np.arange(n_loop) / n_loop + 1.0)
    x = (noise * gusts)[(np.arange(N_SAMPLES) - n_lead) % n_loop]
    x[:n_lead] *= _raised_cosine(n_lead)
    return _mode4(
        "wind",
        _finish(x, fade_out=False),
        UNPITCHED_ROOT,
        "wind, sea, breath, applause (looped noise)",
        "noise model (periodic)",
        loop_start_segment=loop_start,
        loop_end_segment=hw.N_SEGMENTS - 1,
        filter=_filter_for(8000.0),
        **_sustaining(attack_s=0.3, damping_s=0.6),
    )


_BUILDERS: tuple[Callable[[], Voice], ...] = (
    _sine, _square, _saw,
    _piano, _epiano, _mallet, _organ, _guitar, _bass, _strings, _brass, _reed, _flute, _lead, _pad, _choir,
    _bell, _orchestra_hit,
    _kick, _snare,
    lambda: _hat("closed_hat", 43, 0.035, "closed and pedal hi-hat, maracas, cabasa"),
    lambda: _hat("open_hat", 47, 0.18, "open hi-hat, tambourine"),
    _crash, _tom, _clap, _rim,
    _wind,
)


def build_voices() -> dict[str, Voice]:
    """Every built-in voice by name, freshly built (deterministic: fixed seeds throughout)."""
    voices = {}
    for build in _BUILDERS:
        voice = build()
        voices[voice.name] = voice
    return voices


@cache
def builtin_voices() -> dict[str, Voice]:
    """Every built-in voice by name, built once and then shared: do not change the dict."""
    return build_voices()
