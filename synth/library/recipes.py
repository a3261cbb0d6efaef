"""Recipes: the synthesis methods of the factory voices, each turning a table of numbers into a Voice.

A recipe (one table of seeds/voices.toml) names a method and gives its numbers. Two kinds:

- Mode 1, method "page4": a Page 4 harmonic profile, 32 harmonics over up to 32 segments, built
  from spectral keyframes (see `spectrum`), so the timbre changes from segment to segment.
- Mode 4, every other method: a modelled sound made at `source_rate_hz` (48 kHz unless the
  recipe says otherwise) and then captured by synth.library.capture as the sampling card would
  have stored a recording of it. The methods:
    modal, noise   a sum of layers: decaying partials (bells, bars, plates, membranes), gliding
                   sines (drum heads), band-limited noise bursts and clusters of inharmonic
                   partials (cymbals, gongs); the two names share one renderer
    karplus        plucked strings: a delay-line string (Karplus-Strong) with a tuned loop
    bowed          bowed strings: Helmholtz motion as harmonics, bow position, body resonances,
                   vibrato, bow noise, one or several players
    formant        voices: a glottal pulse train and breath noise through vowel formants
    additive       harmonic tones with their own spectra and envelopes, plus noise (organ pipes,
                   calliope, the orchestra hit)
    fm             two-operator frequency modulation (synth bass, textures)
    soundfont      a recording: one SoundFont preset's own sample for a key (FluidR3_GM by default,
                   Debian's fluid-soundfont-gm), tuned to the root key, its loop unrolled so the
                   capture can choose a loop on whole segments (see `soundfont_source`)

Everything here is float64 numpy/scipy with fixed seeds, so a recipe always gives the same sound;
the 8-bit capture then absorbs any last-bit difference between machines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from synth import hardware as hw
from synth.library import page4
from synth.library.capture import (
    MAX_RATIO_DENOMINATOR,
    Capture,
    CaptureSettings,
    capture,
    loop_pitch_hz,
    quantise_zero_sum,
)
from synth.library.soundfont import open_soundfont
from synth.units import midi_to_hz, parse_note
from synth.voice import Voice

SOURCE_RATE_HZ = 48_000.0
# docs/hardware.md, Envelope: a full decay on the exponential curve takes 3.9 times as long as on the linear one.
EXPONENTIAL_STRETCH = 3.9
# Modelled partials stop below this fraction of the source rate: the capture's resampler removes
# what lies above the recording rate's Nyquist anyway; this only keeps the source itself unaliased.
BAND_LIMIT = 0.45


class RecipeError(ValueError):
    """A recipe whose numbers cannot make a voice: one line naming the voice and the problem."""


# --- Page 7 --------------------------------------------------------------------------------------


def envelope_timer(seconds: float, curve: str = "linear") -> int:
    """Envelope timer value whose full 0..255 ramp on `curve` lasts about `seconds`."""
    if curve == "exponential":
        seconds /= EXPONENTIAL_STRETCH
    return hw.envelope_timer_for(seconds)


def filter_for(cutoff_hz: float) -> int:
    """The Page 7 FILTER value whose cutoff (hardware.filter_cutoff_hz) is nearest to cutoff_hz.

    Recipes name their cutoff in Hz rather than copying factory settings (often about 20): the
    real cutoff law is unknown, and under ours a setting of 20 would be near 400 Hz.
    """
    return min(range(hw.FILTER_MAX), key=lambda s: abs(math.log(hw.filter_cutoff_hz(s) / cutoff_hz)))


def page7_params(page7: Mapping) -> dict:
    """Voice keyword arguments from a recipe's [page7] table (times in seconds, filter in Hz or 0..127)."""
    curve = page7.get("curve", "linear")
    params = dict(
        curve=curve,
        attack_timer=envelope_timer(page7.get("attack_s", 0.0), curve),
        decay_timer=envelope_timer(page7.get("decay_s", 0.0), curve),
        sustain_level=int(page7.get("sustain", hw.ENVELOPE_MAX)),
        damping_timer=envelope_timer(page7.get("damping_s", 0.1), curve),
        volume=int(page7.get("volume", 255)),
        start_segment=int(page7.get("start_segment", 0)),
        filter_key_tracking=float(page7.get("filter_key_tracking", 0.0)),
    )
    if "filter_hz" in page7:
        params["filter"] = filter_for(float(page7["filter_hz"]))
    else:
        params["filter"] = int(page7.get("filter", hw.FILTER_MAX))
    return params


# --- spectra ------------------------------------------------------------------------------------


def spectrum(spec: Mapping, h: np.ndarray, f_hz: np.ndarray) -> np.ndarray:
    """Harmonic amplitudes for harmonic numbers h at frequencies f_hz, from a spectrum table.

    Every key is optional and multiplies in (except `boost`, which adds at the end):
      amplitudes = [a1, a2, ...]     explicit amplitudes (missing ones are 0)
      power = p                      h**p (-1: a sawtooth's 1/h)
      rolloff = r, rolloff_hz = r    exp(-h/r), exp(-f/r)
      odd = a, even = b              weights of odd and even harmonics
      pluck = d, pluck_floor = c     c + (1-c) |sin(pi h / d)|: a string struck or plucked at 1/d
      pulse = w, pulse_floor = c     c + (1-c) |sin(pi h w)|: a pulse of duty w
      drop_every = k                 harmonics k, 2k, ... silent
      above = [h0, r]                exp(-max(h - h0, 0) / r): a roll-off that starts at h0
      body = [[h, gain, width]]      1 + gain exp(-((h - h_c) / width)**2): a resonance in harmonics
      formants = [[hz, gain, bw]]    formant_floor + sum gain / sqrt(1 + ((f - hz) / (bw/2))**2)
      random = {seed, level, from}   + a uniform 0..level on harmonics >= from (a breathy chiff)
      gain = g; boost = [[h, a]]     scale; then add amplitude a at harmonic h
    """
    h = np.asarray(h, dtype=np.float64)
    f_hz = np.asarray(f_hz, dtype=np.float64)
    a = np.ones_like(h)
    if "amplitudes" in spec:
        given = np.asarray(spec["amplitudes"], dtype=np.float64)
        a = np.zeros_like(h)
        k = min(given.size, h.size)
        a[:k] = given[:k]
    if "power" in spec:
        a = a * h ** float(spec["power"])
    if "rolloff" in spec:
        a = a * np.exp(-h / float(spec["rolloff"]))
    if "rolloff_hz" in spec:
        a = a * np.exp(-f_hz / float(spec["rolloff_hz"]))
    if "odd" in spec or "even" in spec:
        a = a * np.where(h % 2 == 1, float(spec.get("odd", 1.0)), float(spec.get("even", 1.0)))
    if "pluck" in spec:
        floor = float(spec.get("pluck_floor", 0.0))
        a = a * (floor + (1.0 - floor) * np.abs(np.sin(np.pi * h / float(spec["pluck"]))))
    if "pulse" in spec:
        floor = float(spec.get("pulse_floor", 0.0))
        a = a * (floor + (1.0 - floor) * np.abs(np.sin(np.pi * h * float(spec["pulse"]))))
    if "drop_every" in spec:
        a = np.where(h % int(spec["drop_every"]) == 0, 0.0, a)
    if "above" in spec:
        h0, r = spec["above"]
        a = a * np.exp(-np.maximum(h - float(h0), 0.0) / float(r))
    for centre, gain, width in spec.get("body", ()):
        a = a * (1.0 + gain * np.exp(-(((h - centre) / width) ** 2)))
    if "formants" in spec:
        a = a * formant_envelope(spec["formants"], f_hz, float(spec.get("formant_floor", 0.0)))
    if "random" in spec:
        r = spec["random"]
        rng = np.random.default_rng(int(r["seed"]))
        a = a + rng.uniform(0.0, float(r["level"]), size=h.size) * (h >= float(r.get("from", 1)))
    a = a * float(spec.get("gain", 1.0))
    for harmonic, amplitude in spec.get("boost", ()):
        a = a + np.where(h == harmonic, float(amplitude), 0.0)
    return a


def formant_envelope(formants, f_hz: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Magnitude of a bank of resonances at f_hz: each [centre_hz, gain, bandwidth_hz]."""
    f_hz = np.asarray(f_hz, dtype=np.float64)
    out = np.full_like(f_hz, floor)
    for centre_hz, gain, bandwidth_hz in formants:
        out += gain / np.sqrt(1.0 + ((f_hz - centre_hz) / (0.5 * bandwidth_hz)) ** 2)
    return out


# --- Mode 1: Page 4 profiles -----------------------------------------------------------------------

H32 = np.arange(1, page4.N_HARMONICS + 1, dtype=np.float64)


def _periodic_shimmer(seed: int, n_segments: int, depth: float) -> np.ndarray:
    """Per-harmonic gain (n_segments, 32) that wanders by +-depth and returns to its start.

    Each harmonic moves through a whole number of sine periods over n_segments, so the segment
    after the last one is the first again: a slow ensemble shimmer without a seam in a loop.
    """
    rng = np.random.default_rng(seed)
    cycles = rng.integers(1, 3, size=H32.size)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=H32.size)
    s = np.arange(n_segments)[:, None]
    return 1.0 + depth * np.sin(2.0 * np.pi * cycles * s / n_segments + phase)


def page4_profile(params: Mapping) -> tuple[np.ndarray, np.ndarray | None]:
    """(profile (segments, 32), phases or None) from a [page4] table.

    keyframes = [{segment = s, <spectrum keys>}, ...] drawn and joined linearly, as Page 4 fills
    the segments between those drawn; n_segments (default: up to the last keyframe); f0_hz, the
    note the formants are placed for; decay_db_per_segment = d or {base, per_harmonic}; sweep =
    {key, centre, depth, periods}: one spectrum key moved round a cosine over the segments
    (decay_db_per_segment may also list one rate per harmonic);
    shimmer = {seed, depth, from_segment}; phase_seed and phase_from: random 0/pi phases.
    """
    keyframes = params.get("keyframes")
    if not keyframes:
        raise RecipeError("a page4 recipe needs keyframes")
    f0_hz = float(params.get("f0_hz", midi_to_hz(60)))
    last = max(int(k.get("segment", 0)) for k in keyframes)
    n = int(params.get("n_segments", last + 1))
    if not 1 <= n <= page4.N_SEGMENTS or last >= n:
        raise RecipeError(f"page4 segments must lie in 0..{page4.N_SEGMENTS - 1}")
    if "sweep" in params:
        sweep = params["sweep"]
        s = np.arange(n)
        values = float(sweep["centre"]) + float(sweep["depth"]) * np.cos(
            2.0 * np.pi * float(sweep.get("periods", 1)) * s / n
        )
        base = dict(keyframes[0])
        rows = []
        for v in values:
            base[sweep["key"]] = float(v)
            rows.append(spectrum(base, H32, H32 * f0_hz))
        profile = np.array(rows)
    else:
        frames = {int(k.get("segment", 0)): spectrum(k, H32, H32 * f0_hz) for k in keyframes}
        profile = page4.interpolate_profiles(frames, n_segments=n, n_harmonics=page4.N_HARMONICS)
    if "decay_db_per_segment" in params:
        d = params["decay_db_per_segment"]
        if isinstance(d, Mapping):
            rate = float(d["base"]) + float(d.get("per_harmonic", 0.0)) * (H32 - 1.0)
        elif isinstance(d, list):
            # One rate per harmonic; harmonics past the list fade at its last rate.
            rate = np.array([float(v) for v in d] + [float(d[-1])] * (H32.size - len(d)))[: H32.size]
        else:
            rate = np.full_like(H32, float(d))
        profile = profile * 10.0 ** (-rate[None, :] * np.arange(n)[:, None] / 20.0)
    if "shimmer" in params:
        sh = params["shimmer"]
        first = int(sh.get("from_segment", 0))
        profile[first:] *= _periodic_shimmer(int(sh["seed"]), n - first, float(sh["depth"]))
    phases = None
    if "phase_seed" in params:
        rng = np.random.default_rng(int(params["phase_seed"]))
        flip = (float(params.get("phase_from", 1)) <= H32) & (rng.uniform(size=H32.size) < 0.5)
        phases = np.where(flip, np.pi, 0.0)
    return profile, phases


def page4_voice(name: str, profile: np.ndarray, phases: np.ndarray | None = None, **params) -> Voice:
    """A Mode 1 voice from a profile, each cycle quantised so its levels sum to 0 (no DC in any segment).

    Unused segments after the profile repeat its last cycle, as single_cycle_voice does; the
    profile itself stays in the recipe, not in the voice.
    """
    cycles = page4.harmonic_cycles(profile, phases)
    bits = params.get("bits", 8)
    ram = np.zeros((hw.N_SEGMENTS, hw.SEGMENT_SAMPLES), dtype=np.int16)
    for i, cycle in enumerate(cycles):
        ram[i] = quantise_zero_sum(cycle, bits)
    ram[len(cycles) : hw.MODE1_SEGMENTS] = ram[len(cycles) - 1]
    return Voice(name=name, wave=ram.reshape(-1), mode=1, **params)


# --- Mode 4 sources: shared pieces -------------------------------------------------------------------


def _times(n: int, rate_hz: float) -> np.ndarray:
    return np.arange(n) / rate_hz


def envelope(t: np.ndarray, attack_s: float = 0.0, tau_s: float = 0.0, delay_s: float = 0.0) -> np.ndarray:
    """0 before delay_s, a raised-cosine rise over attack_s, then exp(-t/tau_s) (tau 0: held)."""
    u = t - delay_s
    rise = np.ones_like(t) if attack_s <= 0 else 0.5 - 0.5 * np.cos(np.pi * np.clip(u / attack_s, 0.0, 1.0))
    fall = np.ones_like(t) if tau_s <= 0 else np.exp(-np.maximum(u - attack_s, 0.0) / tau_s)
    return np.where(u >= 0.0, rise * fall, 0.0)


def band_noise(rng: np.random.Generator, n: int, rate_hz: float, low_hz: float, high_hz: float) -> np.ndarray:
    """White noise through a 4-pole band pass (a magnitude mask, periodic over n); unit RMS, no DC."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / rate_hz)
    with np.errstate(divide="ignore"):
        mask = 1.0 / np.sqrt((1.0 + (low_hz / f) ** 8) * (1.0 + (f / high_hz) ** 8))
    mask[0] = 0.0
    y = np.fft.irfft(spec * mask, n)
    return y / np.sqrt(np.mean(y**2))


def _vibrato_cents(t: np.ndarray, rate_hz: float, depth_cents: float, delay_s: float, phase: float) -> np.ndarray:
    """A sine vibrato that fades in after delay_s (raised cosine over 0.3 s)."""
    if depth_cents == 0.0:
        return np.zeros_like(t)
    fade = 0.5 - 0.5 * np.cos(np.pi * np.clip((t - delay_s) / 0.3, 0.0, 1.0))
    return depth_cents * fade * np.sin(2.0 * np.pi * rate_hz * t + phase)


def _wander_cents(rng: np.random.Generator, t: np.ndarray, depth_cents: float) -> np.ndarray:
    """A slow random pitch wander: five sines between 0.5 and 4 Hz with random phases."""
    if depth_cents == 0.0:
        return np.zeros_like(t)
    freqs = rng.uniform(0.5, 4.0, size=5)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=5)
    return depth_cents / math.sqrt(5) * np.sin(2.0 * np.pi * np.outer(t, freqs) + phases).sum(axis=1)


def _harmonic_tone(
    cycles: np.ndarray, amplitudes: np.ndarray, phases: np.ndarray | None = None
) -> np.ndarray:
    """Sum of harmonics h = 1.. of amplitudes[h-1], following a running phase in cycles."""
    x = np.zeros_like(cycles)
    for k, a in enumerate(amplitudes):
        if a != 0.0:
            p = 0.0 if phases is None else phases[k]
            x += a * np.sin(2.0 * np.pi * ((k + 1) * cycles % 1.0) + p)
    return x


def _running_cycles(f0_hz: float, cents: np.ndarray, rate_hz: float) -> np.ndarray:
    """Phase in cycles of a tone of f0_hz moved by `cents` (starting at 0)."""
    f = f0_hz * 2.0 ** (cents / 1200.0)
    return np.concatenate(([0.0], np.cumsum(f[:-1]) / rate_hz))


def _n_harmonics(f0_hz: float, rate_hz: float, cutoff_hz: float | None = None) -> int:
    top = BAND_LIMIT * rate_hz if cutoff_hz is None else min(cutoff_hz, BAND_LIMIT * rate_hz)
    return max(1, int(top / f0_hz))


def _loop_periodic(p: Mapping, t: np.ndarray) -> tuple[Callable[[float], float], np.ndarray]:
    """(snap, frozen time) for a source that must repeat exactly over its loop, else (identity, t).

    A recipe with `loop_periodic = true` and a fixed loop is made at the recording rate; every
    frequency moves to the nearest whole number of cycles per loop and every envelope stops
    moving at the loop start (evaluated at min(t, loop start)), so the loop's last sample runs
    on into its first: the loop has no seam at all. The Page 7 envelope then does the decaying.
    """
    if "_period_s" not in p:
        return (lambda f: f), t
    period_s = float(p["_period_s"])
    return (lambda f: max(1, round(f * period_s)) / period_s), np.minimum(t, float(p["_hold_s"]))


def _noise_layer(layer: Mapping, t: np.ndarray, rate_hz: float, p: Mapping | None = None,
                 frozen: np.ndarray | None = None) -> np.ndarray:
    """Band noise with an envelope; `delays_s` repeats the burst (hands of a clap); periodic over a
    loop-periodic source's loop."""
    rng = np.random.default_rng(int(layer.get("seed", 0)))
    n = t.size
    p = p or {}
    snap, frozen_t = _loop_periodic(p, t)
    if frozen is None:
        frozen = frozen_t
    if "_period_s" in p:
        period = int(round(float(p["_period_s"]) * rate_hz))
        noise = band_noise(rng, period, rate_hz, layer.get("low_hz", 20.0), layer.get("high_hz", 20_000.0))
        noise = np.resize(noise, n)
    else:
        noise = band_noise(rng, n, rate_hz, layer.get("low_hz", 20.0), layer.get("high_hz", 20_000.0))
    env = np.zeros_like(t)
    for delay_s in layer.get("delays_s", (0.0,)):
        env += envelope(frozen, layer.get("attack_s", 0.0), layer.get("tau_s", 0.0), delay_s)
    if "pulse_hz" in layer:
        # Noise swelling with a slow pulse (gusts): 1 + depth sin.
        pulse_hz = snap(float(layer["pulse_hz"]))
        env *= 1.0 + float(layer.get("pulse_depth", 0.3)) * np.sin(2.0 * np.pi * pulse_hz * t)
    return float(layer.get("gain", 1.0)) * noise * env


# --- Mode 4 methods ---------------------------------------------------------------------------------


def layered(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """modal / noise: a sum of layers, each a table with a `type`.

    partials: partials = [[ratio, amplitude, tau_s], ...] (ratio to f0; tau 0: no decay; an
              optional 4th number detunes a twin partial by that many cents, a beating pair)
    sweep:    a sine gliding from from_ratio * f0 to ratio * f0 with time constant sweep_s
    noise:    band noise low_hz..high_hz (see _noise_layer)
    cluster:  `count` partials at random frequencies in low_hz..high_hz, equal level (metal)
    Each layer has gain, attack_s and tau_s (its envelope).
    """
    t = _times(n, rate_hz)
    snap, frozen = _loop_periodic(p, t)
    x = np.zeros(n)
    for layer in p.get("layers", ()):
        kind = layer.get("type")
        gain = float(layer.get("gain", 1.0))
        env = envelope(frozen, layer.get("attack_s", 0.0), layer.get("tau_s", 0.0), layer.get("delay_s", 0.0))
        if kind == "partials":
            y = np.zeros(n)
            for entry in layer["partials"]:
                ratio, amplitude, tau_s = (float(v) for v in entry[:3])
                f_hz = snap(ratio * f0_hz)
                if f_hz >= BAND_LIMIT * rate_hz:
                    continue
                decay = np.exp(-frozen / tau_s) if tau_s > 0 else 1.0
                y += amplitude * decay * np.sin(2.0 * np.pi * f_hz * t)
                if len(entry) > 3:
                    twin_hz = snap(f_hz * 2.0 ** (float(entry[3]) / 1200.0))
                    y += amplitude * decay * np.sin(2.0 * np.pi * twin_hz * t)
            x += gain * env * y
        elif kind == "sweep":
            start_hz = float(layer.get("from_ratio", 1.0)) * f0_hz
            end_hz = snap(float(layer.get("ratio", 1.0)) * f0_hz)
            sweep_s = float(layer.get("sweep_s", 0.03))
            phase = end_hz * t + (start_hz - end_hz) * sweep_s * (1.0 - np.exp(-t / sweep_s))
            x += gain * env * np.sin(2.0 * np.pi * phase)
        elif kind == "noise":
            x += _noise_layer(layer, t, rate_hz, p, frozen)
        elif kind == "cluster":
            rng = np.random.default_rng(int(layer.get("seed", 0)))
            count = int(layer["count"])
            freqs = np.exp(rng.uniform(math.log(layer["low_hz"]), math.log(layer["high_hz"]), size=count))
            y = np.zeros(n)
            for f_hz in freqs:
                y += np.sin(2.0 * np.pi * snap(f_hz) * t)
            x += gain * env * y / math.sqrt(count)
        else:
            raise RecipeError(f"unknown layer type {kind!r}")
    return x


def karplus(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """Plucked strings: a noise pluck into a delay-line loop (Karplus-Strong), tuned by an all-pass.

    strings = [[ratio, gain, detune_cents], ...] (several strings per key: a harpsichord's
    choirs); pluck_position (fraction of the string), bright_hz (low-pass of the pluck),
    damping (0..0.5: the loop's two-point filter, 0.5 the classic average, lower is brighter),
    tau_s (decay time constant of the fundamental), seed.
    """
    rng = np.random.default_rng(int(p.get("seed", 0)))
    b = float(p.get("damping", 0.5))
    x = np.zeros(n)
    for ratio, gain, detune_cents in p.get("strings", ([1.0, 1.0, 0.0],)):
        f_hz = f0_hz * float(ratio) * 2.0 ** (float(detune_cents) / 1200.0)
        period = rate_hz / f_hz
        # Loop delay = N samples + the two-point filter's b + the all-pass's d (at low frequency).
        n_delay = int(math.floor(period - b - 0.1))
        d = period - b - n_delay
        c = (1.0 - d) / (1.0 + d)
        w = 2.0 * math.pi * f_hz / rate_hz
        loss = abs((1.0 - b) + b * np.exp(-1j * w))
        rho = math.exp(-1.0 / (f_hz * float(p.get("tau_s", 1.0)))) / loss
        den = np.zeros(n_delay + 3)
        den[0] = 1.0
        den[1] += c
        den[n_delay] -= rho * (1.0 - b) * c
        den[n_delay + 1] -= rho * ((1.0 - b) + b * c)
        den[n_delay + 2] -= rho * b
        pluck_n = int(round(period))
        burst = rng.standard_normal(pluck_n)
        sos = sps.butter(2, min(float(p.get("bright_hz", 6000.0)), 0.45 * rate_hz), fs=rate_hz, output="sos")
        burst = sps.sosfilt(sos, burst)
        # Plucking at a fraction beta of the string cancels the harmonics at multiples of 1/beta.
        lag = max(1, int(round(float(p.get("pluck_position", 0.15)) * period)))
        burst[lag:] -= burst[:-lag].copy()
        burst -= burst.mean()
        excitation = np.zeros(n)
        excitation[:pluck_n] = burst
        x += float(gain) * sps.lfilter([1.0, c], den, excitation)
    return x


def bowed(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """Bowed strings: the Helmholtz sawtooth as harmonics, shaped by the bow position and the body.

    players (count), detune_cents (spread of the players, evenly from -x to +x), vibrato_hz,
    vibrato_cents, vibrato_delay_s, wander_cents, bow_position, spectrum (a spectrum table in
    Hz for the body: formants, rolloff_hz ...), attack_s, noise (a noise layer: bow hiss), seed.
    """
    rng = np.random.default_rng(int(p.get("seed", 0)))
    t = _times(n, rate_hz)
    count = int(p.get("players", 1))
    spread = float(p.get("detune_cents", 0.0))
    n_h = _n_harmonics(f0_hz, rate_hz, p.get("cutoff_hz"))
    h = np.arange(1, n_h + 1, dtype=np.float64)
    beta = float(p.get("bow_position", 0.12))
    amplitudes = (0.1 + np.abs(np.sin(np.pi * h * beta))) / h * spectrum(p.get("spectrum", {}), h, h * f0_hz)
    x = np.zeros(n)
    for i in range(count):
        detune = 0.0 if count == 1 else spread * (2.0 * i / (count - 1) - 1.0)
        cents = detune + _vibrato_cents(
            t, float(p.get("vibrato_hz", 5.5)) * rng.uniform(0.93, 1.07), float(p.get("vibrato_cents", 0.0)),
            float(p.get("vibrato_delay_s", 0.1)), rng.uniform(0.0, 2.0 * np.pi),
        ) + _wander_cents(rng, t, float(p.get("wander_cents", 0.0)))
        cycles = _running_cycles(f0_hz, cents, rate_hz) + rng.uniform()
        onset = envelope(t, float(p.get("attack_s", 0.05)) * rng.uniform(0.8, 1.2), 0.0, rng.uniform(0.0, 0.02))
        x += onset * _harmonic_tone(cycles, amplitudes)
    x /= math.sqrt(count)
    if "noise" in p:
        x += np.max(np.abs(x)) * _noise_layer(p["noise"], t, rate_hz)
    return x


def formant(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """Voices: a glottal pulse train (harmonics falling as h**tilt) and breath noise through formants.

    singers, detune_cents, vibrato_hz, vibrato_cents, vibrato_delay_s, wander_cents, tilt,
    formants = [[hz, gain, bandwidth_hz], ...] (fixed in Hz: they stay put when the note moves,
    until the card transposes the whole sample), formant_floor, attack_s, breath = {gain, low_hz,
    high_hz, seed, pulsed (0..1: how much the breath follows the glottal cycle)}.
    """
    rng = np.random.default_rng(int(p.get("seed", 0)))
    t = _times(n, rate_hz)
    count = int(p.get("singers", 1))
    spread = float(p.get("detune_cents", 0.0))
    n_h = _n_harmonics(f0_hz, rate_hz, p.get("cutoff_hz"))
    h = np.arange(1, n_h + 1, dtype=np.float64)
    shape = formant_envelope(p["formants"], h * f0_hz, float(p.get("formant_floor", 0.02)))
    amplitudes = h ** float(p.get("tilt", -1.0)) * shape
    voiced = np.zeros(n)
    glottal = np.zeros(n)
    for i in range(count):
        detune = 0.0 if count == 1 else spread * (2.0 * i / (count - 1) - 1.0)
        cents = detune + _vibrato_cents(
            t, float(p.get("vibrato_hz", 5.0)) * rng.uniform(0.9, 1.1), float(p.get("vibrato_cents", 0.0)),
            float(p.get("vibrato_delay_s", 0.15)), rng.uniform(0.0, 2.0 * np.pi),
        ) + _wander_cents(rng, t, float(p.get("wander_cents", 0.0)))
        cycles = _running_cycles(f0_hz, cents, rate_hz) + rng.uniform()
        voiced += _harmonic_tone(cycles, amplitudes)
        glottal += 0.5 + 0.5 * np.cos(2.0 * np.pi * (cycles % 1.0))
    voiced /= math.sqrt(count)
    glottal /= count
    x = voiced
    if "breath" in p:
        br = p["breath"]
        noise = band_noise(np.random.default_rng(int(br.get("seed", 1))), n, rate_hz,
                           br.get("low_hz", 300.0), br.get("high_hz", 9000.0))
        # The breath goes through the same vocal tract: shape its spectrum by the formants.
        spec = np.fft.rfft(noise)
        f = np.fft.rfftfreq(n, 1.0 / rate_hz)
        shaped = np.fft.irfft(spec * formant_envelope(p["formants"], f, 0.15), n)
        shaped /= np.sqrt(np.mean(shaped**2))
        pulsed = float(br.get("pulsed", 0.5))
        x = x + float(br.get("gain", 0.1)) * np.sqrt(np.mean(voiced**2)) * shaped * (1.0 - pulsed + pulsed * glottal)
    return x * envelope(t, float(p.get("attack_s", 0.08)))


def additive(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """Harmonic tones and noises: tones = [{ratio or note, gain, spectrum, detune_cents = [...],
    attack_s, tau_s, delay_s, vibrato_hz, vibrato_cents, wander_cents, seed}], noises = [noise layers].
    """
    t = _times(n, rate_hz)
    x = np.zeros(n)
    for tone in p.get("tones", ()):
        rng = np.random.default_rng(int(tone.get("seed", 0)))
        base_hz = midi_to_hz(tone["note"]) if "note" in tone else f0_hz * float(tone.get("ratio", 1.0))
        n_h = _n_harmonics(base_hz, rate_hz, tone.get("cutoff_hz"))
        h = np.arange(1, n_h + 1, dtype=np.float64)
        amplitudes = spectrum(tone.get("spectrum", {}), h, h * base_hz)
        env = envelope(t, float(tone.get("attack_s", 0.0)), float(tone.get("tau_s", 0.0)),
                       float(tone.get("delay_s", 0.0)))
        detunes = tone.get("detune_cents", [0.0])
        y = np.zeros(n)
        for detune in detunes:
            cents = float(detune) + _vibrato_cents(
                t, float(tone.get("vibrato_hz", 5.0)), float(tone.get("vibrato_cents", 0.0)),
                float(tone.get("vibrato_delay_s", 0.0)), rng.uniform(0.0, 2.0 * np.pi),
            ) + _wander_cents(rng, t, float(tone.get("wander_cents", 0.0)))
            y += _harmonic_tone(_running_cycles(base_hz, cents, rate_hz), amplitudes)
        x += float(tone.get("gain", 1.0)) * env * y / math.sqrt(len(detunes))
    peak = np.max(np.abs(x)) if x.any() else 1.0
    for layer in p.get("noises", ()):
        x += peak * _noise_layer(layer, t, rate_hz)
    return x


def fm(p: Mapping, f0_hz: float, rate_hz: float, n: int) -> np.ndarray:
    """Two-operator FM pairs: pairs = [{carrier, modulator (ratios to f0), index, index_end,
    index_tau_s, gain, attack_s, tau_s, lfo_hz, lfo_index, lfo_cents, detune_cents}].

    The index falls from `index` to `index_end` with time constant index_tau_s (the brightness of
    a struck or plucked attack); the LFO moves the index and the pitch.
    """
    t = _times(n, rate_hz)
    snap, frozen = _loop_periodic(p, t)
    x = np.zeros(n)
    for pair in p.get("pairs", ()):
        detune = 2.0 ** (float(pair.get("detune_cents", 0.0)) / 1200.0)
        carrier_hz = snap(f0_hz * float(pair.get("carrier", 1.0)) * detune)
        mod_hz = snap(f0_hz * float(pair.get("modulator", 1.0)))
        index0 = float(pair.get("index", 1.0))
        index1 = float(pair.get("index_end", index0))
        tau = float(pair.get("index_tau_s", 0.0))
        index = index1 + (index0 - index1) * (np.exp(-frozen / tau) if tau > 0 else 1.0)
        lfo_phase = 2.0 * np.pi * snap(float(pair.get("lfo_hz", 0.0))) * t
        index = index + float(pair.get("lfo_index", 0.0)) * np.sin(lfo_phase)
        # The pitch moves a quarter cycle after the index: in phase, the carrier would be loudest
        # on one side of the pitch swing and the note would sound off its key.
        cents = float(pair.get("lfo_cents", 0.0)) * np.cos(lfo_phase)
        if "_period_s" in p and cents.any():
            # A pitch swing raises the mean frequency a little (2**x averages above 1): take that
            # out, so a whole number of cycles still fits the loop.
            first = int(round(float(p["_hold_s"]) * rate_hz))
            mean = float(np.mean(2.0 ** (cents[first : first + int(round(float(p["_period_s"]) * rate_hz))] / 1200)))
            carrier_hz /= mean
            mod_hz /= mean
        carrier_cycles = _running_cycles(carrier_hz, cents, rate_hz)
        mod_cycles = _running_cycles(mod_hz, cents, rate_hz)
        env = envelope(frozen, float(pair.get("attack_s", 0.0)), float(pair.get("tau_s", 0.0)))
        x += float(pair.get("gain", 1.0)) * env * np.sin(
            2.0 * np.pi * (carrier_cycles % 1.0) + index * np.sin(2.0 * np.pi * (mod_cycles % 1.0))
        )
    return x


METHODS: dict[str, Callable[[Mapping, float, float, int], np.ndarray]] = {
    "modal": layered,
    "noise": layered,
    "karplus": karplus,
    "bowed": bowed,
    "formant": formant,
    "additive": additive,
    "fm": fm,
}
ALL_METHODS = ("page4", *METHODS, "soundfont")
FLUIDR3_PATH = "/usr/share/sounds/sf2/FluidR3_GM.sf2"  # Debian fluid-soundfont-gm, MIT (see FluidR3-LICENSE)


def soundfont_source(source: Mapping, root_key: int, recording_rate_hz: float) -> tuple[np.ndarray, float]:
    """(signal, rate) of a SoundFont preset's sample for `source["key"]`, pitched to sound as root_key.

    The rate returned is the sample's own rate moved by its pitch correction, its zones' tuning and
    the distance from its root to root_key, so that capturing it at the recording rate puts the note
    on root_key, rounded to a ratio to recording_rate_hz that the capture's polyphase resampler takes
    (a fraction of a cent). A looped sample has its loop repeated to fill the wave RAM: the capture
    then looks for its own loop on whole segments in a stretch that repeats exactly.
    """
    path = str(source.get("soundfont", FLUIDR3_PATH))
    key = int(source.get("key", root_key))
    s = open_soundfont(path).sample_for(int(source["program"]), int(source.get("bank", 0)), key,
                                        int(source.get("velocity", 100)))
    cents = s.pitch_correction_cents + 100.0 * (root_key - s.root_key)
    exact_hz = s.rate_hz * 2.0 ** (cents / 1200.0)
    ratio = Fraction(recording_rate_hz / exact_hz).limit_denominator(MAX_RATIO_DENOMINATOR)
    rate_hz = recording_rate_hz / float(ratio)
    n_seconds = hw.WAVE_RAM_SAMPLES / recording_rate_hz
    x = s.samples.astype(np.float64) * float(source.get("gain", 1.0))
    # The silence a recording starts with is not kept (Page 8's start point on the first sound):
    # everything before the first sample within trim_db (default 60 dB) of the peak, so a drum
    # speaks on its frame.
    floor = 10.0 ** (-abs(float(source.get("trim_db", 60.0))) / 20.0)
    lead = int(np.argmax(np.abs(x) > floor * np.max(np.abs(x)))) if x.size and np.any(x) else 0
    x = x[lead:]
    loop = None if s.loop is None else (s.loop[0] - lead, s.loop[1] - lead)
    n = int(math.ceil(n_seconds * rate_hz)) + 64
    if loop is not None and loop[0] >= 0 and loop[1] - loop[0] >= 8:
        a, b = loop
        head, cycle = x[:a], x[a:b]
        reps = max(1, int(math.ceil((n - a) / cycle.size)))
        x = np.concatenate([head, np.tile(cycle, reps)])
    if x.size < n:
        x = np.concatenate([x, np.zeros(n - x.size)])
    return x[:n], rate_hz


# --- a recipe into a Voice -------------------------------------------------------------------------


def _root_key(value) -> int:
    return parse_note(str(value))


def source_signal(recipe: Mapping, defaults: Mapping | None = None) -> tuple[np.ndarray, float]:
    """(signal, source rate) of a Mode 4 recipe, before capture."""
    defaults = defaults or {}
    method = recipe.get("method")
    if method == "soundfont":
        cap = recipe.get("capture", {})
        recording_hz = float(cap.get("recording_rate_hz", defaults.get("recording_rate_hz", 30_200.0)))
        return soundfont_source(recipe.get("source", {}), _root_key(cap.get("root_key", 60)), recording_hz)
    if method not in METHODS:
        raise RecipeError(f"voice {recipe.get('name')!r}: unknown method {method!r} (known: {', '.join(ALL_METHODS)})")
    cap = recipe.get("capture", {})
    source = recipe.get("source", {})
    rate_hz = float(source.get("source_rate_hz", defaults.get("source_rate_hz", SOURCE_RATE_HZ)))
    recording_hz = float(cap.get("recording_rate_hz", defaults.get("recording_rate_hz", 30_200.0)))
    f0_hz = midi_to_hz(_root_key(cap.get("root_key", 60)))
    # Enough source for the whole RAM at the recording rate, plus the resampler's tail.
    n = int(math.ceil(hw.WAVE_RAM_SAMPLES * rate_hz / recording_hz)) + 64
    params = dict(source)
    if source.get("loop_periodic"):
        loop = cap.get("loop")
        if not isinstance(loop, list) or rate_hz != recording_hz or method not in ("modal", "noise", "fm"):
            raise RecipeError(
                f"voice {recipe.get('name')!r}: loop_periodic needs a fixed loop, the source made at the "
                "recording rate, and a modal, noise or fm method"
            )
        params["_period_s"] = (int(loop[1]) - int(loop[0]) + 1) * hw.SEGMENT_SAMPLES / rate_hz
        params["_hold_s"] = int(loop[0]) * hw.SEGMENT_SAMPLES / rate_hz
    return METHODS[method](params, f0_hz, rate_hz, n), rate_hz


def capture_settings(recipe: Mapping, defaults: Mapping | None = None) -> CaptureSettings:
    defaults = defaults or {}
    cap = recipe.get("capture", {})
    loop = cap.get("loop", "none")
    if isinstance(loop, list):
        loop = (int(loop[0]), int(loop[1]))
    keys = ("length_s", "loop_from_s", "loop_min_s", "loop_crossfade_s", "fade_in_s", "fade_out_s")
    fields = {k: float(cap[k]) for k in keys if k in cap}
    return CaptureSettings(
        recording_rate_hz=float(cap.get("recording_rate_hz", defaults.get("recording_rate_hz", 30_200.0))),
        loop=loop,
        level_loop=bool(cap.get("level_loop", False)),
        **fields,
    )


def _meta(recipe: Mapping) -> dict:
    meta = {"method": recipe["method"], "pitched": bool(recipe.get("pitched", True))}
    if "range" in recipe:
        meta["range"] = [_root_key(v) for v in recipe["range"]]
    if "pitch_settled_s" in recipe:
        meta["pitch_settled_s"] = float(recipe["pitch_settled_s"])
    return meta


def _source_text(recipe: Mapping, settings: CaptureSettings) -> str:
    at = f"captured at {settings.recording_rate_hz / 1000:g} kHz, 8-bit"
    if recipe["method"] != "soundfont":
        return f"{recipe['method']} model, {at}"
    src = recipe.get("source", {})
    key = src.get("key", recipe.get("capture", {}).get("root_key", 60))
    return (f"FluidR3_GM (MIT) preset {int(src.get('bank', 0))}:{int(src['program'])} key {key} "
            f"velocity {int(src.get('velocity', 100))}, {at}")


def voice_from_recipe(recipe: Mapping, defaults: Mapping | None = None) -> Voice:
    """The Voice a recipe describes (deterministic: the same recipe always gives the same voice)."""
    name = recipe.get("name")
    if not name:
        raise RecipeError("a recipe needs a name")
    method = recipe.get("method")
    try:
        params = page7_params(recipe.get("page7", {}))
        meta = _meta(recipe)
        role = str(recipe.get("role", ""))
        if method == "page4":
            p = recipe.get("page4", {})
            profile, phases = page4_profile(p)
            loop = p.get("loop")
            if loop is not None:
                params["loop_start_segment"], params["loop_end_segment"] = int(loop[0]), int(loop[1])
            return page4_voice(
                name, profile, phases, segment_time_s=float(p.get("segment_time_s", hw.SEGMENT_TIME_DEFAULT_S)),
                role=role, source=f"page4 harmonic profile, {profile.shape[0]} segments", meta=meta, **params,
            )
        signal, rate_hz = source_signal(recipe, defaults)
        settings = capture_settings(recipe, defaults)
        if recipe.get("source", {}).get("loop_periodic"):
            start, end = settings.loop
            period_s = (end - start + 1) * hw.SEGMENT_SAMPLES / settings.recording_rate_hz
            f0_hz = midi_to_hz(_root_key(recipe["capture"].get("root_key", 60)))
            meta["loop_snap_cents"] = round(1200.0 * math.log2(round(f0_hz * period_s) / period_s / f0_hz), 3)
        cap: Capture = capture(signal, rate_hz, settings)
        root = _root_key(recipe.get("capture", {}).get("root_key", 60))
        recording_rate_hz = settings.recording_rate_hz
        if recipe.get("capture", {}).get("tune") == "loop":
            # Tuned as a sampler's programmer would: the recording rate is set so the loop's mean
            # pitch, not the model's nominal one, lands on the root key. Rounded to 0.1 cent and
            # the rate to 1 mHz, so the voice file does not depend on float rounding.
            if cap.loop_start_segment is None:
                raise RecipeError(f"voice {name!r}: tune = \"loop\" needs a loop")
            seg = hw.SEGMENT_SAMPLES
            heard_hz = loop_pitch_hz(cap.wave, cap.loop_start_segment * seg, (cap.loop_end_segment + 1) * seg,
                                     recording_rate_hz, midi_to_hz(root))
            cents = round(1200.0 * math.log2(heard_hz / midi_to_hz(root)), 1)
            meta["tuned_cents"] = -cents
            recording_rate_hz = round(recording_rate_hz * 2.0 ** (-cents / 1200.0), 3)
        if cap.seam_cost is not None:
            meta["seam_cost_lsb2"] = round(cap.seam_cost, 3)
        meta["length_samples"] = cap.n_used
        return Voice(
            name=name,
            wave=cap.wave,
            mode=4,
            recording_rate_hz=recording_rate_hz,
            root_key=root,
            loop_start_segment=cap.loop_start_segment,
            loop_end_segment=cap.loop_end_segment,
            role=role,
            source=_source_text(recipe, settings),
            meta=meta,
            **params,
        )
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, RecipeError) and str(e).startswith("voice "):
            raise
        raise RecipeError(f"voice {name!r}: {e}") from None
