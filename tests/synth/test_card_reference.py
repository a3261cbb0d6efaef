"""synth.card_reference, the card's rules written plainly: it renders one note as the model computed
independently here, and the compiled kernel renders as it does, state and samples, on generated streams."""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

import mido
import numpy as np
import pytest
from scipy.signal import lfilter

from synth import blep, card, card_reference
from synth import hardware as hw
from synth.card import (
    DRAINING,
    ENDING,
    F_G,
    F_G_TGT,
    F_GAIN_L,
    F_GAIN_M,
    F_GAIN_R,
    F_TGT_L,
    F_TGT_M,
    F_TGT_R,
    F_VALUE,
    I_ACTIVE,
    I_ADDR,
    I_CURVE,
    I_ENDED,
    I_ENV,
    I_ENV_DIR,
    I_ENV_STAGE,
    I_FADE_LEFT,
    I_FILTER_ON,
    I_LOOP_END,
    I_LOOP_START,
    I_MODE,
    I_NEXT_TICK,
    I_PENDING_RELEASE,
    I_SEG_NEXT,
    I_SUSTAIN,
    I_TICK_INC,
    IDLE,
    PLAYING,
)
from synth.engine import MASTER_GAIN_DB, Engine, velocity_to_volume
from synth.voice import Voice, sampled_voice, single_cycle_voice
from voicesets import OneVoice

RATE_HZ = 44100
ONE = 1 << card.TIME_FRAC_BITS
HALF = blep.HALF_TAPS


# --- the tolerance -------------------------------------------------------------------------------------
#
# The kernel and the reference make the same DAC steps (their integer state agrees exactly, and is
# checked); their samples differ only in how a step is band-limited. The kernel reads a step's residual
# from a float32 table of 512 phases a frame, interpolated linearly, and sums the residuals in single
# precision; the reference integrates the step response finely (to about 3e-11). So at any frame the two
# filter inputs differ by at most step_error() (about 7.5e-7) times the sum of |step| over the steps
# within HALF_TAPS frames of it (window_variation). The filter passes such an error on at most
# filter_gain_bound times, the steal fade at most once, the mixer gains at most their largest magnitude;
# a card and its shadow (one stem) add; each float32 output rounds, in each of the two, by half a unit in
# the last place. Every factor is the largest met so far in the stream, since an error lingers in the
# filter's memory. On the streams below this allows 1e-6 to 6e-5 (the most for the Mode 1 voice at 535
# kHz, 24 steps a frame, through filters near the host's Nyquist frequency), and the kernel stays within
# a few percent of it; a fade one frame late, or steps late by 1/4096 of a frame, exceed it many times.


@cache
def residual_table_error() -> float:
    """The largest error, per unit of step, of the residual as the kernel reads it (a float32 row and the
    linear interpolation to the next, 512 phases a frame) against the continuous step response the
    reference integrates: at every phase row, the midpoint between rows (where the interpolation is
    worst) and random phases, on every column. About 4.8e-7."""
    table, diff = card.kernel_tables(blep.stored_residual_table())
    n_phases = table.shape[0] - 1
    x_grid, s_grid = card_reference.step_response(HALF)
    rng = np.random.default_rng(0)
    g = np.concatenate([np.arange(n_phases + 1) / n_phases, (np.arange(n_phases) + 0.5) / n_phases,
                        rng.uniform(0, 1, 4 * n_phases)])
    row = np.minimum((g * n_phases).astype(np.int64), n_phases)
    frac = g * n_phases - row
    kernel = table[row].astype(np.float64) + frac[:, None] * diff[row]
    cols = np.arange(2 * HALF) - HALF
    exact = np.interp(cols[None, :] + g[:, None], x_grid, s_grid) - (cols >= 0)
    return float(np.abs(kernel - exact).max())


def step_error() -> float:
    """How far the kernel's band-limited signal may be from the reference's, per unit of the steps near a
    frame: the table's error (with 5 % to spare for phases between those measured), and a few float32
    roundings of the step's size, for the kernel's single-precision residual sums (its cards' comment
    puts their rounding near 1e-7 of the steps' size)."""
    return 1.05 * residual_table_error() + 4 * 2.0**-24


def window_variation(times: np.ndarray, sizes: np.ndarray) -> float:
    """The largest sum of |step| over the steps that reach one host frame (within HALF_TAPS of it)."""
    if times.size == 0:
        return 0.0
    whole = np.floor(times).astype(np.int64)
    lo = whole.min() - HALF
    per_frame = np.zeros(whole.max() - lo + HALF + 2)
    frames = (whole - HALF + 1 - lo)[:, None] + np.arange(2 * HALF)[None, :]
    np.add.at(per_frame, frames.ravel(), np.repeat(sizes, 2 * HALF))
    return float(per_frame.max())


def filter_gain_bound(g: float) -> float:
    """The largest factor by which the four poles can grow a bounded error. A pole's memory moves as
    z' = 2 G x + (1 - 2 G) z and its output is G x + (1 - G) z: for G <= 1/2 both are averages of input
    and memory, so an error never grows, however G ramps from frame to frame; above, each pole can grow
    it by 2 G at most (its impulse response's sum of magnitudes)."""
    return max(1.0, 2.0 * g) ** 4


def assert_samples_agree(kernel: np.ndarray, reference: np.ndarray, atol, rounding_ulps: int, what: str) -> None:
    """|kernel - reference| within atol plus rounding_ulps float32 roundings of the reference."""
    limit = atol + rounding_ulps * 2.0**-24 * np.abs(reference.astype(np.float64)) + 1e-30
    excess = np.abs(kernel.astype(np.float64) - reference) - limit
    if (excess > 0).any():
        i = tuple(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))
        raise AssertionError(f"{what}: samples differ at {i}: kernel {kernel[i]!r}, reference {reference[i]!r}, "
                             f"allowed {np.broadcast_to(limit, excess.shape)[i]:.3g}")


class Recording:
    """Stands in for the kernel: renders with the package reference (or the function given), and keeps
    what the comparison needs, per pair of slots (a card and its shadow, which share a stem and hand a
    note from one to the other): the largest window variation of their DAC's steps so far, the largest
    filter and mixer gains, so that the samples' tolerance follows from step_error; and what the cards
    did (`seen`), for the stream to show that it exercised what it claims."""

    def __init__(self, n_cards: int, reference=card_reference.render_cards) -> None:
        self.n_cards = n_cards
        self.reference = reference
        self.variation = np.zeros(n_cards)
        self.filter_gain = np.ones(n_cards)
        self.mixer_gain = np.zeros(n_cards)
        self.recent_steps: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0), np.zeros(0))] * n_cards
        self.previous: np.ndarray | None = None
        self.seen: Counter = Counter()
        self.pairs_sounding = np.zeros(n_cards, dtype=bool)
        self.called = False

    def tolerances(self) -> tuple[float, np.ndarray]:
        """(for each channel of the mix, for each stem) of the last render."""
        if not self.called:
            return 0.0, np.zeros(self.n_cards)
        per_pair = step_error() * self.variation * self.filter_gain * self.mixer_gain * self.pairs_sounding
        return float(per_pair.sum()), per_pair

    def __call__(self, out, stems, first_frame, n_frames, istate, fstate, ram, carry, carry_res, *rest) -> None:
        self.called = True
        before_i, before_f = istate.copy(), fstate.copy()
        steps = self.steps_of_the_call(first_frame, n_frames, istate, fstate, ram)
        self.bound_the_errors(first_frame, n_frames, before_i, before_f, steps)
        self.reference(out, stems, first_frame, n_frames, istate, fstate, ram, carry, carry_res, *rest)
        self.notice(n_frames, before_i, before_f, istate)

    def steps_of_the_call(self, first_frame, n_frames, istate, fstate, ram) -> dict[int, tuple]:
        """Each sounding slot's DAC steps in the call (times in frames, sizes), and its integer state after
        them, from copies of its state."""
        steps = {}
        for s in np.flatnonzero(istate[:, I_ACTIVE] != IDLE):
            st, fs = istate[s].copy(), fstate[s].copy()
            times, deltas = card_reference.dac_steps(st, fs, ram[s], first_frame, n_frames, HALF)
            steps[int(s)] = (np.array(times, dtype=np.float64) / ONE, np.abs(deltas), st)
        return steps

    def bound_the_errors(self, first_frame, n_frames, before_i, before_f, steps) -> None:
        self.pairs_sounding[:] = False
        for p in range(self.n_cards):
            slots = [s for s in (p, p + self.n_cards) if s in steps]
            if not slots:
                continue
            self.pairs_sounding[p] = True
            old_t, old_d = self.recent_steps[p]
            keep = old_t >= first_frame - 2 * HALF - 2
            t = np.concatenate([old_t[keep], *(steps[s][0] for s in slots)])
            d = np.concatenate([old_d[keep], *(steps[s][1] for s in slots)])
            self.recent_steps[p] = (t, d)
            self.variation[p] = max(self.variation[p], window_variation(t, d))
            for s in slots:
                if before_i[s, I_FILTER_ON] == 1:
                    g = max(before_f[s, F_G], before_f[s, F_G_TGT])
                    self.filter_gain[p] = max(self.filter_gain[p], filter_gain_bound(g))
                gains = before_f[s, [F_GAIN_L, F_GAIN_R, F_GAIN_M, F_TGT_L, F_TGT_R, F_TGT_M]]
                self.mixer_gain[p] = max(self.mixer_gain[p], float(np.abs(gains).max()))
        self.steps = steps

    def notice(self, n_frames, before_i, before_f, after_i) -> None:
        """What the cards did in the call, by the state before, after the ticks, and after the call."""
        seen = self.seen
        for s, (_, _, ticked) in self.steps.items():
            b, a = before_i[s], after_i[s]
            shadow = s >= self.n_cards
            if b[I_ACTIVE] == PLAYING:
                if ticked[I_ACTIVE] in (ENDING, DRAINING):
                    if b[I_MODE] == 4 and ticked[I_ADDR] == hw.WAVE_RAM_SAMPLES:
                        seen["mode 4 reached the end of RAM"] += 1
                    if b[I_MODE] == 1 and ticked[I_ADDR] == hw.MODE1_SEGMENTS * hw.SEGMENT_SAMPLES:
                        seen["mode 1 played its 32nd segment out"] += 1
                    if ticked[I_ENV_STAGE] == card_reference.RELEASE and ticked[I_ENV] == 0:
                        seen["a release reached zero"] += 1
                if b[I_MODE] == 1 and ticked[I_SEG_NEXT] > b[I_SEG_NEXT]:
                    seen["mode 1's segment timer stepped"] += 1
                if b[I_LOOP_START] >= 0 and ticked[I_ACTIVE] == PLAYING:
                    # Mode 1's segment only goes down at a loop; Mode 4's address passes the loop's end.
                    ticks = (ticked[I_NEXT_TICK] - b[I_NEXT_TICK]) // b[I_TICK_INC]
                    loop_end = (b[I_LOOP_END] + 1) * hw.SEGMENT_SAMPLES
                    if (ticked[I_ADDR] < b[I_ADDR] if b[I_MODE] == 1 else b[I_ADDR] < loop_end <= b[I_ADDR] + ticks):
                        seen[f"mode {b[I_MODE]} looped back"] += 1
                if b[I_PENDING_RELEASE] == 1 and b[I_ENV_STAGE] != 3 and ticked[I_ENV_STAGE] == 3:
                    seen["a release turned the envelope at a wrap"] += 1
                if ticked[I_ENV] != b[I_ENV]:
                    seen[f"an envelope moved on curve {b[I_CURVE]}"] += 1
                if ticked[I_ENV_STAGE] == card_reference.DECAY and ticked[I_ENV_DIR] == 0 and (
                        ticked[I_ENV] == ticked[I_SUSTAIN] < hw.ENVELOPE_MAX):
                    seen["a decay reached a sustain level below the top"] += 1
                if ticked[I_ENV_STAGE] == card_reference.SUSTAIN:
                    seen["an attack held at the top"] += 1
                if b[I_FILTER_ON] == 0:
                    seen["a card played with its filter bypassed"] += 1
                elif before_f[s, F_G] != before_f[s, F_G_TGT]:
                    seen["a filter's cutoff ramped"] += 1
                if (before_f[s, [F_GAIN_L, F_GAIN_R, F_GAIN_M]] != before_f[s, [F_TGT_L, F_TGT_R, F_TGT_M]]).any():
                    seen["a mixer gain ramped"] += 1
                if self.previous is not None and b[I_TICK_INC] != self.previous[s, I_TICK_INC]:
                    same = np.delete(b != self.previous[s], [I_TICK_INC, I_PENDING_RELEASE])
                    if not same.any():
                        seen["a card's clock changed during a note"] += 1
            if ticked[I_ACTIVE] == ENDING:
                seen["the DAC's return to zero fell past the call"] += 1
            if shadow and b[I_FADE_LEFT] >= 0:
                seen["a stolen note faded in its shadow"] += 1
                if a[I_ACTIVE] == IDLE and ticked[I_ACTIVE] != DRAINING:
                    seen["a steal fade ran out"] += 1
            if not shadow and a[I_ENDED] == 1:
                seen["a card reported its note ended"] += 1
            if a[I_ACTIVE] == IDLE and ticked[I_ACTIVE] == DRAINING and b[I_FADE_LEFT] < 0:
                seen["a filtered card drained to silence" if b[I_FILTER_ON] else "an open card drained"] += 1
        self.previous = after_i.copy()


# --- one note, computed independently ----------------------------------------------------------------


def reference_voice() -> Voice:
    rng = np.random.default_rng(3)
    t = np.arange(hw.WAVE_RAM_SAMPLES) / 30_200.0
    data = 0.6 * np.sin(2 * np.pi * 523.0 * t) + 0.2 * rng.uniform(-1, 1, t.size)
    return sampled_voice(
        "ref", data, root_key=72, start_segment=2, loop_start_segment=20, loop_end_segment=23,
        attack_timer=30, damping_timer=60, filter=70,
    )


def reference_steps(voice: Voice, inc: int, n_frames: int, release_frame: int, engine: Engine):
    """(tick time in fixed point, value) for one note at frame 0, from the model's rules, plainly."""
    period = {k: card.envelope_period(getattr(voice, k), engine.rate_hz) for k in ("attack_timer", "damping_timer")}
    vol = velocity_to_volume(127, voice.volume) / (255.0 * 255.0)
    levels = voice.levels.astype(np.float64)
    t, addr, env = 0, voice.start_segment * 128, 0
    direction, next_clock, clock = 1, period["attack_timer"], period["attack_timer"]
    releasing = False
    times, values = [], []
    while t < (n_frames + 64) * ONE:
        while direction and next_clock <= t:
            next_clock += clock
            env += direction
            if env in (0, 255):
                direction = 0
                break
        times.append(t)
        values.append(levels[addr] * env * vol)
        t += inc
        addr += 1
        if addr % 128 == 0:
            if addr // 128 - 1 == voice.loop_end_segment:
                addr = voice.loop_start_segment * 128
            # The key goes up at release_frame: ticks whose held value starts at or after that frame
            # see it, and the envelope turns at the wrap that follows.
            if not releasing and times[-1] > (release_frame - 1) * ONE:
                releasing, direction, clock = True, -1, period["damping_timer"]
                next_clock = t + clock
                if env == 0:
                    direction = 0
            if releasing and env == 0:
                times.append(t)
                values.append(0.0)
                break
    return np.array(times, dtype=np.float64) / ONE, np.array(values)


def band_limited(times: np.ndarray, values: np.ndarray, n_frames: int) -> np.ndarray:
    """Sum over steps of d * S(n - t), S the step response of the same windowed-sinc low-pass."""
    w = blep.HALF_TAPS
    x = np.linspace(-w, w, 2_000_001)
    arg = np.clip(1 - (x / w) ** 2, 0, None)
    h = 2 * blep.CUTOFF_FRACTION * np.sinc(2 * blep.CUTOFF_FRACTION * x) * np.i0(
        blep.KAISER_BETA * np.sqrt(arg)
    ) / np.i0(blep.KAISER_BETA)
    s = np.concatenate(([0.0], np.cumsum((h[1:] + h[:-1]) * 0.5 * (x[1] - x[0]))))
    s /= s[-1]
    d = np.diff(np.concatenate(([0.0], values)))
    y = np.zeros(n_frames)
    for n in range(n_frames):
        lo = np.searchsorted(times, n - w, side="right")
        hi = np.searchsorted(times, n + w, side="left")
        settled = d[:lo].sum()
        y[n] = settled + np.sum(d[lo:hi] * np.interp(n - times[lo:hi], x, s))
    return y


ONE_NOTE_FRAMES, ONE_NOTE_RELEASE = 6_000, 3_000
# The left channel's gain: the card's share of the mix, the make-up gain, volume 100, the pan's centre.
ONE_NOTE_GAIN = hw.CARD_MIX_GAIN * 10 ** (MASTER_GAIN_DB / 20) * (100 / 127) ** 2 * math.cos(0.5 * math.pi * 63 / 126)


@pytest.fixture(scope="module")
def one_note_by_hand() -> np.ndarray:
    """The left channel of one Mode 4 note (linear envelope, a loop, released) from the model's rules
    above: its steps, the band limit's exact integral, and the filter by scipy."""
    voice = reference_voice()
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    inc = int(round(RATE_HZ / engine.clock_hz(voice, 65) * ONE))
    times, values = reference_steps(voice, inc, ONE_NOTE_FRAMES, ONE_NOTE_RELEASE, engine)
    # From HALF_TAPS frames before the note: the band-limited step rings that early, into the filter.
    y = band_limited(times + HALF, values, HALF + ONE_NOTE_FRAMES)
    # The analog filter: four bilinear one-poles, H(z) = g (1 + 1/z) / ((1 + g) + (g - 1) / z).
    g = math.tan(math.pi * hw.filter_cutoff_hz(voice.filter) / RATE_HZ)
    for _ in range(4):
        y = lfilter([g / (1 + g), g / (1 + g)], [1.0, (g - 1) / (1 + g)], y)
    y = y[HALF:]
    y *= ONE_NOTE_GAIN
    assert np.abs(y).max() > 0.01
    return y


def play_one_note(kernel) -> tuple[np.ndarray, Engine]:
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(reference_voice()), card_kernel=kernel)
    engine.handle(mido.Message("note_on", note=65, velocity=127))
    out = [engine.render(ONE_NOTE_RELEASE)[:, 0].copy()]
    engine.handle(mido.Message("note_off", note=65))
    out.append(engine.render(ONE_NOTE_FRAMES - ONE_NOTE_RELEASE + engine.latency_frames)[:, 0].copy())
    return np.concatenate(out)[engine.latency_frames :].astype(np.float64), engine


def test_the_reference_renders_one_note_as_the_model_computed_by_hand(one_note_by_hand) -> None:
    got, engine = play_one_note(card_reference.render_cards)
    # The same step response and the same filter: what remains is the float32 output's rounding (half a
    # unit in the last place), and the filter's tail below SILENCE_LEVEL where the card stops.
    np.testing.assert_allclose(got, one_note_by_hand, rtol=2.0**-24, atol=card.SILENCE_LEVEL * ONE_NOTE_GAIN)
    assert engine.is_silent


def test_the_kernel_renders_one_note_as_the_model_computed_by_hand(one_note_by_hand) -> None:
    got, _ = play_one_note(None)
    np.testing.assert_allclose(got, one_note_by_hand, atol=1e-6 * np.abs(one_note_by_hand).max() + 2e-7)


def test_the_kernel_renders_one_note_as_the_reference_within_the_tables_accuracy() -> None:
    reference = Recording(1)
    want, _ = play_one_note(reference)
    got, _ = play_one_note(None)
    atol, _ = reference.tolerances()
    # About 6e-6 of the peak here (the scenario's own check of the kernel above allows 1e-6 of it, and 2e-7).
    assert 0 < atol < 1e-5 * np.abs(want).max()
    assert_samples_agree(got, want, atol, 2, "one note")


def test_the_residual_table_is_as_accurate_as_its_design_says() -> None:
    # Linear interpolation between 512 phases: at most max|S''| / (8 * 512**2), about 4.8e-7 of a step.
    x, s = card_reference.step_response(HALF)
    curvature = np.abs(np.diff(s, 2)).max() / (x[1] - x[0]) ** 2
    bound = curvature / (8 * blep.PHASES**2)
    assert 0.5 * bound < residual_table_error() < 1.1 * bound + 2.0**-24


# --- generated event streams ---------------------------------------------------------------------------

PHASE = np.arange(hw.SEGMENT_SAMPLES) / hw.SEGMENT_SAMPLES


def harmonic_cycles(n: int, rng: np.random.Generator) -> np.ndarray:
    """n single cycles, each a random mix of the first eight harmonics, peaking at 0.9."""
    amps = rng.uniform(-1, 1, (n, 8)) / np.arange(1, 9)
    cycles = amps @ np.sin(2 * np.pi * np.arange(1, 9)[:, None] * PHASE[None, :])
    return 0.9 * cycles / np.abs(cycles).max(axis=1, keepdims=True)


@cache
def stream_voices() -> tuple[Voice, ...]:
    """The voices the streams play (StreamVoices says which where)."""
    rng = np.random.default_rng(11)
    t = np.arange(hw.WAVE_RAM_SAMPLES) / 30_200.0
    tone = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.3 * np.sin(2 * np.pi * 1320.0 * t) + 0.1 * rng.uniform(-1, 1, t.size)
    return (
        # Mode 1, looped, exponential, a sustain level below the top, a short segment time.
        single_cycle_voice("additive", harmonic_cycles(8, rng), segment_time_s=0.0012, loop_start_segment=1,
                           loop_end_segment=2, attack_timer=4, decay_timer=3, sustain_level=150, damping_timer=6,
                           curve="exponential", filter=85, filter_key_tracking=0.5),
        # Mode 1 without a loop: it ends after its 32nd segment (32 cycles at least); the filter open.
        single_cycle_voice("sweep", harmonic_cycles(32, rng), segment_time_s=0.001, attack_timer=1, decay_timer=2,
                           sustain_level=200, damping_timer=3),
        # Mode 4, looped, exponential, filtered low and tracking the key.
        sampled_voice("tone", tone, start_segment=9, loop_start_segment=11, loop_end_segment=12, attack_timer=8,
                      decay_timer=4, sustain_level=120, damping_timer=5, curve="exponential", filter=60,
                      filter_key_tracking=1.0),
        # Mode 4 one-shot near the end of RAM (10 segments, about 40 ms at its root), held at the top.
        sampled_voice("hit", tone, start_segment=118, damping_timer=2, filter=100),
    )


class StreamVoices:
    """Program p plays voice p % 4. Drum keys play the Mode 4 one-shot at their own pitch (even keys) or
    the unlooped Mode 1 voice high up (odd keys), where its 32 cycles pass in about 8 ms: drums are not
    released by their key, so these play out to their end unless a steal takes their card."""

    def melodic(self, program: int, channel: int | None = None) -> Voice:
        voices = stream_voices()
        return voices[program % len(voices)]

    def drum(self, key: int):
        hit, sweep = stream_voices()[3], stream_voices()[1]
        return (hit, key) if key % 2 == 0 else (sweep, 108)


STREAM_CHANNELS = (0, 1, 2, 3, 9)


def event_stream(seed: int, n_frames: int) -> list[tuple[int, mido.Message]]:
    """(frame, message): notes on four melodic channels (one voice each) and the drum channel, more than
    the cards at once; key-ups; volume, expression and pan; brightness (CC74); pitch bend; the sustain
    pedal; program changes; All Notes Off, All Sound Off; then every channel's notes off for the tail."""
    rng = np.random.default_rng(seed)
    events = [(0, mido.Message("program_change", channel=ch, program=ch)) for ch in range(4)]
    held: dict[int, list[int]] = {ch: [] for ch in STREAM_CHANNELS}
    kinds = ["on", "off", "mix", "brightness", "bend", "pedal", "program", "notes off", "sound off"]
    weights = np.array([32, 30, 10, 10, 7, 5, 2, 3, 1], dtype=np.float64)
    frame = 0
    while True:
        frame += int(rng.exponential(110))
        if frame >= n_frames:
            break
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        # Controllers mostly go to channels with keys down, where they change something.
        busy = [c for c in STREAM_CHANNELS if held[c]]
        ch = int(rng.choice(busy if busy and kind != "on" and rng.uniform() < 0.8 else STREAM_CHANNELS))
        if kind == "on":
            key = int(rng.integers(40, 82))
            held[ch].append(key)
            message = mido.Message("note_on", channel=ch, note=key, velocity=int(rng.integers(20, 128)))
        elif kind == "off":
            if not held[ch]:
                continue
            key = held[ch].pop(int(rng.integers(len(held[ch]))))
            message = mido.Message("note_off", channel=ch, note=key)
        elif kind == "mix":
            control = int(rng.choice([7, 10, 11]))
            message = mido.Message("control_change", channel=ch, control=control, value=int(rng.integers(0, 128)))
        elif kind == "brightness":
            message = mido.Message("control_change", channel=ch, control=74, value=int(rng.integers(0, 128)))
        elif kind == "bend":
            message = mido.Message("pitchwheel", channel=ch, pitch=int(rng.integers(-8192, 8192)))
        elif kind == "pedal":
            message = mido.Message("control_change", channel=ch, control=64, value=int(rng.choice([0, 127])))
        elif kind == "program":
            message = mido.Message("program_change", channel=ch, program=int(rng.integers(0, 4)))
        else:
            held[ch].clear()
            control = 123 if kind == "notes off" else 120
            message = mido.Message("control_change", channel=ch, control=control, value=0)
        events.append((frame, message))
    for ch in STREAM_CHANNELS:
        events.append((n_frames, mido.Message("control_change", channel=ch, control=64, value=0)))
        events.append((n_frames, mido.Message("control_change", channel=ch, control=123, value=0)))
    return events


def block_sizes(rng: np.random.Generator, n: int) -> list[int]:
    """n frames cut into blocks of 1 to about 800 frames, small ones as likely as large (log-uniform)."""
    sizes = []
    while n > 0:
        size = min(n, int(np.exp(rng.uniform(0, np.log(800)))))
        sizes.append(size)
        n -= size
    return sizes


def compare_on_stream(seed: int, envelope_level_read: str, n_cards: int, rate_hz: int, n_frames: int,
                      tail_frames: int, reference=card_reference.render_cards) -> tuple[Counter, Engine]:
    """Play the stream through an engine on the compiled kernel and one on the reference, in the same
    random blocks; after every block the integer state must be the same, column for column, the mixer
    and filter ramps and the DAC's value the same to rounding, and the mix and stems the same within
    the tolerance the residual table's accuracy gives for the steps made (Recording). Returns what the
    cards did, and the kernel's engine."""
    events = event_stream(seed, n_frames)
    recording = Recording(n_cards, reference)
    kernel, ref = (Engine(rate_hz=rate_hz, n_voices=n_cards, stems=True, voices=StreamVoices(),
                          envelope_level_read=envelope_level_read, card_kernel=chosen) for chosen in (None, recording))
    rng = np.random.default_rng(1000 + seed)
    cuts = sorted({f for f, _ in events} | {n_frames + tail_frames})
    pending = list(events)
    frame = 0
    for cut in cuts:
        for size in block_sizes(rng, cut - frame):
            recording.called = False
            got = np.concatenate([kernel.render(size), kernel.stems], axis=1)
            want = np.concatenate([ref.render(size), ref.stems], axis=1)
            where = f"stream {seed}, frames {frame}..{frame + size}"
            differ = np.argwhere(kernel._cards.istate != ref._cards.istate)
            if differ.size:
                raise AssertionError(f"{where}: state differs at (slot, column) {differ[:4].tolist()}")
            for columns in ([F_GAIN_L, F_GAIN_R, F_GAIN_M, F_G], [F_VALUE]):
                np.testing.assert_allclose(kernel._cards.fstate[:, columns], ref._cards.fstate[:, columns],
                                           rtol=1e-12, atol=1e-15, err_msg=where)
            mix_tol, stem_tol = recording.tolerances()
            assert_samples_agree(got[:, :2], want[:, :2], mix_tol, 2, f"{where}, mix")
            assert_samples_agree(got[:, 2:], want[:, 2:], stem_tol[None, :], 4, f"{where}, stems")
            frame += size
        while pending and pending[0][0] == frame:
            _, message = pending.pop(0)
            kernel.handle(message)
            ref.handle(message)
    assert kernel.notes_stolen == ref.notes_stolen
    seen = recording.seen
    seen["notes stolen"] = kernel.notes_stolen
    for at, message in events:
        if at < n_frames:
            seen[message_kind(message)] += 1
    return seen, kernel


def message_kind(message: mido.Message) -> str:
    if message.type != "control_change":
        return message.type
    names = {7: "volume, expression or pan", 10: "volume, expression or pan", 11: "volume, expression or pan",
             74: "brightness", 120: "All Sound Off", 123: "All Notes Off"}
    if message.control == 64:
        return "the sustain pedal down" if message.value >= 64 else "the sustain pedal up"
    return names[message.control]


# What every stream claims to exercise; the test shows it did.
EXERCISED = (
    "pitchwheel",
    "volume, expression or pan",
    "brightness",
    "the sustain pedal down",
    "All Notes Off",
    "notes stolen",
    "a stolen note faded in its shadow",
    "a steal fade ran out",
    "mode 1's segment timer stepped",
    "mode 1 looped back",
    "mode 4 looped back",
    "mode 1 played its 32nd segment out",
    "mode 4 reached the end of RAM",
    "an envelope moved on curve 0",
    "a decay reached a sustain level below the top",
    "an attack held at the top",
    "a release turned the envelope at a wrap",
    "a release reached zero",
    "a card reported its note ended",
    "a filtered card drained to silence",
    "an open card drained",
    "a card played with its filter bypassed",
    "a filter's cutoff ramped",
    "a mixer gain ramped",
    "a card's clock changed during a note",
)

# (seed, envelope level read, cards, host rate)
STREAMS = [
    (1, "after", 3, 48000),
    (2, "before", 4, 32000),
    (3, "after", 2, 22050),
    (4, "before", 3, 44100),
    (6, "before", 2, 32000),
    (11, "after", 4, 22050),
]


@pytest.mark.parametrize(("seed", "read", "n_cards", "rate_hz"), STREAMS)
def test_the_kernel_renders_generated_streams_as_the_reference(seed, read, n_cards, rate_hz) -> None:
    seen, engine = compare_on_stream(seed, read, n_cards, rate_hz, n_frames=10_000, tail_frames=6_000)
    curve = {"before": 1, "after": 2}[read]
    missing = [claim for claim in (*EXERCISED, f"an envelope moved on curve {curve}") if not seen[claim]]
    assert not missing, f"stream {seed} did not exercise: {missing}"
    assert engine.is_silent


# --- the comparison can fail ---------------------------------------------------------------------------


def short_stream(reference=card_reference.render_cards) -> Counter:
    seed, read, n_cards, rate_hz = STREAMS[0]
    seen, _ = compare_on_stream(seed, read, n_cards, rate_hz, n_frames=4_000, tail_frames=0, reference=reference)
    return seen


def test_the_comparison_notices_a_steal_fade_one_frame_late(monkeypatch) -> None:
    assert short_stream()["a steal fade ran out"]
    on_time = card_reference.fade_gain
    monkeypatch.setattr(card_reference, "fade_gain", lambda left, total: on_time(left + 1, total))
    with pytest.raises(AssertionError, match="samples differ"):
        short_stream()


def test_the_comparison_notices_steps_a_4096th_of_a_frame_late(monkeypatch) -> None:
    step_error()  # the tolerance, from the true step response
    on_time = card_reference.step_response
    monkeypatch.setattr(card_reference, "step_response", lambda half: (on_time(half)[0] + 1 / 4096, on_time(half)[1]))
    with pytest.raises(AssertionError, match="samples differ"):
        short_stream()


def test_the_comparison_notices_the_exponential_curve_reading_the_wrong_level(monkeypatch) -> None:
    assert STREAMS[0][1] == "after"
    right = card_reference.Card.multiplier_passes

    def reading_before(self) -> bool:
        curve, self.curve = self.curve, min(self.curve, 1)
        try:
            return right(self)
        finally:
            self.curve = curve

    monkeypatch.setattr(card_reference.Card, "multiplier_passes", reading_before)
    with pytest.raises(AssertionError, match="state differs"):
        short_stream()


def test_an_engine_renders_with_the_compiled_kernel_unless_given_another() -> None:
    assert Engine(voices=StreamVoices())._cards.kernel is card.render_cards
    engine = Engine(voices=StreamVoices(), card_kernel=card_reference.render_cards)
    assert engine._cards.kernel is card_reference.render_cards
