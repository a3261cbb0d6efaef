"""The compiled card kernel against a slow reference written from the model, and block-size invariance."""

from __future__ import annotations

import math

import mido
import numpy as np
import pytest
from scipy.signal import lfilter

from synth import blep, card
from synth import hardware as hw
from synth.engine import MASTER_GAIN_DB, Engine, velocity_to_volume
from voicesets import OneVoice

from synth.voice import Voice, sampled_voice

RATE_HZ = 44100
ONE = 1 << card.TIME_FRAC_BITS




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


def test_kernel_matches_the_reference_card_to_a_millionth() -> None:
    voice = reference_voice()
    engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice))
    n_frames, release_frame = 6_000, 3_000
    inc = int(round(RATE_HZ / engine.clock_hz(voice, 65) * ONE))

    engine.handle(mido.Message("note_on", note=65, velocity=127))
    out = [engine.render(release_frame)[:, 0].copy()]
    engine.handle(mido.Message("note_off", note=65))
    out.append(engine.render(n_frames - release_frame + engine.latency_frames)[:, 0].copy())
    got = np.concatenate(out)[engine.latency_frames :].astype(np.float64)

    times, values = reference_steps(voice, inc, n_frames, release_frame, engine)
    y = band_limited(times, values, n_frames)
    # The analog filter: four bilinear one-poles, H(z) = g (1 + 1/z) / ((1 + g) + (g - 1) / z).
    g = math.tan(math.pi * hw.filter_cutoff_hz(voice.filter) / RATE_HZ)
    for _ in range(4):
        y = lfilter([g / (1 + g), g / (1 + g)], [1.0, (g - 1) / (1 + g)], y)
    pan_left = math.cos(0.5 * math.pi * 63 / 126)
    y *= hw.CARD_MIX_GAIN * 10 ** (MASTER_GAIN_DB / 20) * (100 / 127) ** 2 * pan_left
    assert np.abs(y).max() > 0.01
    np.testing.assert_allclose(got, y, atol=1e-6 * np.abs(y).max() + 2e-7)


@pytest.mark.parametrize("block_frames", [1, 37, 512])
def test_rendering_in_any_block_size_gives_identical_samples(block_frames: int) -> None:
    voice = reference_voice()
    events = {0: [("note_on", 60)], 900: [("note_on", 67)], 2_500: [("note_off", 60)], 4_000: [("note_off", 67)]}

    def run(block: int) -> np.ndarray:
        engine = Engine(rate_hz=RATE_HZ, voices=OneVoice(voice), stems=True)
        out, frame = [], 0
        while frame < 8_000:
            for kind, note in events.get(frame, []):
                engine.handle(mido.Message(kind, note=note, velocity=100))
            upcoming = [f for f in events if f > frame] + [8_000]
            n = min(block, min(upcoming) - frame)
            out.append(np.concatenate([engine.render(n), engine.stems], axis=1).copy())
            frame += n
        return np.concatenate(out)

    np.testing.assert_array_equal(run(block_frames), run(4096))
