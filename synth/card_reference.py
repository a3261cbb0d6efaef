"""The channel card written plainly: a slow reference of the render kernel's rules, to check it against.

synth.card renders the cards with the compiled kernel (synth/_cards.c), which is written for speed: a
tabulated band-limited step, residuals summed in single precision, slots filtered four to a vector. This
module states the same card in plain Python, one rule to a function, as docs/hardware.md describes it:

- the envelope counter and its timer (linear, or through the 7497 rate multiplier on the exponential
  curve, which reads the level before the step, I_CURVE 1, or the level the step leads to, I_CURVE 2);
- the DAC, which latches RAM sample x envelope x volume at each card clock tick;
- the address counter, and what happens when its low 7 bits wrap: Mode 1's segment timer, loops, the
  end of RAM, and the envelope's turns (a release waits for the wrap, the attack's top turns to the
  decay toward the sustain level);
- the band limit: every step of the DAC of size d at host time t adds d * S(n - t) to frame n, S the
  continuous step response of the windowed-sinc low-pass synth.blep designs, integrated finely here;
- per host frame, the four-pole filter with its cutoff ramp, the steal fade and the mixer gain ramps.

render_cards has the signature and the state of synth.card.render_cards, so that it can stand in for the
kernel (synth.card.CardBank(kernel=...), synth.engine.Engine(card_kernel=...)); the integer state it leaves
is the kernel's, column for column, and its samples differ from the kernel's only by the accuracy of the
kernel's residual table (about 5e-7 of a step). What it keeps in the carry rows is its own: `carry` holds
the band-limited signal, from the steps made so far, at the 2 * half_taps host frames the next call
starts with (card time, before the filter), and `carry_res` stays zero. The tabulated residual, the
scratch and the thread count are not used.

It is slow (a Python loop per card clock tick and per host frame): for tests, not for playing.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from synth import blep
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
    F_Z1,
    F_Z2,
    F_Z3,
    F_Z4,
    I_ACTIVE,
    I_ADDR,
    I_CURVE,
    I_DRAIN_LEFT,
    I_ENDED,
    I_ENV,
    I_ENV_DIR,
    I_ENV_NEXT,
    I_ENV_PERIOD,
    I_ENV_STAGE,
    I_ENV_TARGET,
    I_FADE_LEFT,
    I_FADE_TOTAL,
    I_FILTER_ON,
    I_LOOP_END,
    I_LOOP_START,
    I_MODE,
    I_NEXT_TICK,
    I_PENDING_RELEASE,
    I_PERIOD_DECAY,
    I_PERIOD_RELEASE,
    I_RATE_ACC,
    I_SEG_NEXT,
    I_SEG_PENDING,
    I_SEG_PERIOD,
    I_STEM,
    I_SUSTAIN,
    I_TICK_INC,
    I_VOLUME,
    IDLE,
    PLAYING,
    SILENCE_LEVEL,
    TIME_FRAC_BITS,
    TIME_ONE,
)

# Envelope stages (I_ENV_STAGE).
ATTACK, DECAY, SUSTAIN, RELEASE = 0, 1, 2, 3
# The 8-bit volume latch's full scale.
VOLUME_MAX = 255

# Points of the fine grid the step response is integrated on: the linear interpolation between them is
# good to about 3e-11 of a step, far below the kernel's tabulated residual (about 5e-7).
STEP_RESPONSE_POINTS = 2_000_001


# --- the band limit ----------------------------------------------------------------------------------


@cache
def step_response(half_taps: int = blep.HALF_TAPS) -> tuple[np.ndarray, np.ndarray]:
    """(x, S(x)) on a fine grid over [-half_taps, half_taps]: the unit step response of synth.blep's
    low-pass, a Kaiser-windowed sinc with its -6 dB point at CUTOFF_FRACTION of the host rate, integrated
    by the trapezoidal rule and scaled so that the step settles to exactly 1. S is 0 before the grid and
    1 after it."""
    x = np.linspace(-half_taps, half_taps, STEP_RESPONSE_POINTS)
    window = np.i0(blep.KAISER_BETA * np.sqrt(np.clip(1.0 - (x / half_taps) ** 2, 0.0, None))) / np.i0(
        blep.KAISER_BETA)
    h = 2.0 * blep.CUTOFF_FRACTION * np.sinc(2.0 * blep.CUTOFF_FRACTION * x) * window
    s = np.concatenate(([0.0], np.cumsum((h[1:] + h[:-1]) * 0.5 * (x[1] - x[0]))))
    return x, s / s[-1]


def step_at(x: np.ndarray, half_taps: int) -> np.ndarray:
    """S(x), linearly interpolated on step_response's grid (x in frames after the step)."""
    x_grid, s_grid = step_response(half_taps)
    last = len(x_grid) - 1
    position = np.clip((x - x_grid[0]) * (last / (x_grid[-1] - x_grid[0])), 0.0, last)
    i = np.minimum(position.astype(np.int64), last - 1)
    return s_grid[i] + (position - i) * (s_grid[i + 1] - s_grid[i])


def band_limited(times: list[int], deltas: list[float], base: np.ndarray, first: int, half_taps: int) -> np.ndarray:
    """base[j] + sum_k deltas[k] * S(first + j - times[k] / TIME_ONE) for j in range(len(base)): the DAC's
    steps at fixed-point host times `times` through the band limit, on top of what earlier steps left."""
    y = np.array(base, dtype=np.float64)
    if not times:
        return y
    t = np.array(times, dtype=np.int64)
    d = np.array(deltas, dtype=np.float64)
    whole = t >> TIME_FRAC_BITS  # floor(t)
    if whole.min() < first + half_taps - 1:
        raise ValueError("render: a slot's clock lies before the frames it renders")
    frac = (t & (TIME_ONE - 1)).astype(np.float64) / TIME_ONE
    # A step at t touches frames floor(t) - half + 1 .. floor(t) + half, and holds its full size after.
    c = np.arange(2 * half_taps)
    frames = (whole - half_taps + 1 - first)[:, None] + c[None, :]
    x = (1 - half_taps + c)[None, :] - frac[:, None]  # frame - t
    np.add.at(y, frames.ravel(), (d[:, None] * step_at(x, half_taps)).ravel())
    settled = np.zeros(y.size + 1)
    np.add.at(settled, np.minimum(whole + half_taps + 1 - first, y.size), d)
    return y + np.cumsum(settled)[:-1]


# --- one card's clocks -------------------------------------------------------------------------------


class Card:
    """One slot's integer state as plain numbers, and the rules that advance it tick by tick."""

    # The integer columns, by the names used here.
    COLUMNS = {
        "active": I_ACTIVE, "mode": I_MODE, "addr": I_ADDR, "next_tick": I_NEXT_TICK, "tick_inc": I_TICK_INC,
        "env": I_ENV, "env_dir": I_ENV_DIR, "env_next": I_ENV_NEXT, "env_period": I_ENV_PERIOD,
        "env_target": I_ENV_TARGET, "env_stage": I_ENV_STAGE, "pending_release": I_PENDING_RELEASE,
        "rate_acc": I_RATE_ACC, "curve": I_CURVE, "loop_start": I_LOOP_START, "loop_end": I_LOOP_END,
        "seg_next": I_SEG_NEXT, "seg_period": I_SEG_PERIOD, "seg_pending": I_SEG_PENDING, "volume": I_VOLUME,
        "period_decay": I_PERIOD_DECAY, "period_release": I_PERIOD_RELEASE, "sustain": I_SUSTAIN,
        "ended": I_ENDED, "drain_left": I_DRAIN_LEFT,
    }

    def __init__(self, row: np.ndarray) -> None:
        for name, col in self.COLUMNS.items():
            setattr(self, name, int(row[col]))

    def store(self, row: np.ndarray) -> None:
        for name, col in self.COLUMNS.items():
            row[col] = getattr(self, name)

    @property
    def looped(self) -> bool:
        return self.loop_start >= 0

    # 1. The envelope.

    def multiplier_passes(self) -> bool:
        """The 7497 rate multiplier on the exponential curve: of every 64 timer clocks it passes
        M = 4 * (level >> 4) + 3, the level mirrored (255 - level) while attacking; the level read is the
        counter now (I_CURVE 1) or the one this step would lead to (I_CURVE 2)."""
        level = self.env + self.env_dir if self.curve == 2 else self.env
        if self.env_dir > 0:
            level = hw.ENVELOPE_MAX - level
        self.rate_acc += 4 * (level >> 4) + 3
        if self.rate_acc < hw.RATE_MULTIPLIER_CLOCKS:
            return False
        self.rate_acc -= hw.RATE_MULTIPLIER_CLOCKS
        return True

    def clock_envelope(self, t: int) -> None:
        """The envelope timer's clocks due at or before host time t: each moves the counter one step
        (unless the multiplier holds it back), until the counter reaches the phase's target and stops."""
        while self.env_dir != 0 and self.env_next <= t:
            self.env_next += self.env_period
            if self.curve != 0 and not self.multiplier_passes():
                continue
            self.env += self.env_dir
            if self.env == self.env_target:
                self.env_dir = 0

    def start_phase(self, stage: int, direction: int, target: int, period: int, t: int) -> None:
        """The envelope moves toward `target` from now (host time t), one timer period to the first clock."""
        self.env_stage, self.env_dir, self.env_target = stage, direction, target
        self.env_period = period
        self.env_next = t + period
        self.rate_acc = 0

    def turn_envelope(self, t: int) -> None:
        """At a wrap: a released key turns the envelope to its release (DAMPING) toward 0; an attack that
        has reached the top turns to the decay toward the sustain level, or holds there if that is the top."""
        if self.pending_release == 1 and self.env_stage != RELEASE:
            self.start_phase(RELEASE, -1, 0, self.period_release, t)
            if self.env == 0:
                self.env_dir = 0
        elif self.env_stage == ATTACK and self.env_dir == 0:
            if self.sustain < self.env:
                self.start_phase(DECAY, -1, self.sustain, self.period_decay, t)
            else:
                self.env_stage = SUSTAIN

    # 2. The DAC.

    def dac_value(self, levels) -> float:
        """The DAC's output for the sample at the address, scaled by envelope and volume (full scale 1)."""
        return levels[self.addr] * self.env * self.volume / (hw.ENVELOPE_MAX * float(VOLUME_MAX))

    # 3. The address counter and the segment logic.

    def next_segment_mode_1(self, seg: int, t: int) -> tuple[int, bool]:
        """Mode 1: the segment timer's periods that elapsed by now (host time t) are counted; if one is
        waiting, the next segment plays (the loop start after the loop end; past the 32nd the sound ends),
        else the segment just finished plays again. Returns (segment, ended)."""
        while self.seg_next <= t:
            self.seg_next += self.seg_period
            self.seg_pending += 1
        if self.seg_pending == 0:
            return seg, False
        self.seg_pending -= 1
        if self.looped and seg == self.loop_end:
            return self.loop_start, False
        return seg + 1, seg + 1 >= hw.MODE1_SEGMENTS

    def advance_address(self, t: int) -> bool:
        """The address counter steps after a tick; when its low 7 bits wrap the segment logic acts and
        the envelope's turns take effect (t: the next tick's host time). True when the sound ends."""
        self.addr += 1
        if self.addr % hw.SEGMENT_SAMPLES != 0:
            return False
        seg = self.addr // hw.SEGMENT_SAMPLES - 1  # the segment just finished
        ended = False
        if self.mode == 1:
            nxt, ended = self.next_segment_mode_1(seg, t)
            self.addr = nxt * hw.SEGMENT_SAMPLES
        elif self.looped and seg == self.loop_end:
            self.addr = self.loop_start * hw.SEGMENT_SAMPLES
        elif self.addr >= hw.WAVE_RAM_SAMPLES:
            ended = True  # the end of RAM (the address stays past it)
        self.turn_envelope(t)
        released_to_zero = self.env_stage == RELEASE and self.env == 0 and self.env_dir == 0
        return ended or released_to_zero


def first_frame_holding(t: int) -> int:
    """The first host frame at or after fixed-point host time t: the first that holds a value set at t."""
    return -((-t) >> TIME_FRAC_BITS)


def dac_steps(st: np.ndarray, fs: np.ndarray, ram_row: np.ndarray, first_frame: int, n_frames: int,
              half_taps: int) -> tuple[list[int], list[float]]:
    """The steps of one slot's DAC whose first held frame lies in [first_frame, first_frame + n_frames):
    (fixed-point host times, sizes). Advances the slot's integer state row `st` and F_VALUE in `fs` past
    them, as the kernel does: a note that ends becomes ENDING, and DRAINING once the DAC's return to zero
    (at the next tick) is made, with the frames its band-limited step still reaches in I_DRAIN_LEFT."""
    card = Card(st)
    end_frame = first_frame + n_frames
    times: list[int] = []
    deltas: list[float] = []
    value = float(fs[F_VALUE])

    def latch(t: int, new_value: float) -> None:
        nonlocal value
        if new_value != value:
            times.append(t)
            deltas.append(new_value - value)
        value = new_value

    if card.active == PLAYING:
        levels = memoryview(np.ascontiguousarray(ram_row, dtype=np.float32))
        t = card.next_tick
        while first_frame_holding(t) < end_frame:
            card.clock_envelope(t)
            latch(t, card.dac_value(levels))
            t += card.tick_inc
            if card.advance_address(t):
                card.active = ENDING
                card.ended = 1
                break
        card.next_tick = t
    if card.active == ENDING and first_frame_holding(card.next_tick) < end_frame:
        latch(card.next_tick, 0.0)
        card.active = DRAINING
        card.drain_left = first_frame_holding(card.next_tick) - first_frame + 2 * half_taps
    card.store(st)
    fs[F_VALUE] = value
    return times, deltas


# --- per host frame: the filter, the steal fade, the mixer -----------------------------------------


def ramp(value: float, target: float, smooth: float) -> float:
    """One frame of a parameter ramp: a one-pole toward the target (stmlib-style smoothing)."""
    return value + (target - value) * smooth


def low_pass(x: float, z: list[float], g: float) -> float:
    """The analog filter's four equal poles, each a trapezoidal (bilinear) one-pole with coefficient
    G = g / (1 + g) and memory z[k]; returns the output."""
    for k in range(4):
        v = (x - z[k]) * g
        x = v + z[k]
        z[k] = x + v
    return x


def fade_gain(fade_left: int, fade_total: int) -> float:
    """A steal fade's gain: full while fade_left > fade_total (it waits for the new note to sound),
    then falling linearly to 0."""
    return fade_left / fade_total if fade_left < fade_total else 1.0


def filter_fade_mix(st: np.ndarray, fs: np.ndarray, y: np.ndarray, smooth: float) -> tuple[np.ndarray, int]:
    """One slot's signal y (per host frame) through the filter, the steal fade and the mixer gains:
    returns (left, right, mono) as an array (3, len(y)) and how many frames the slot sounds; a draining
    slot falls silent at the first frame after its last step where the filter's memory is below
    SILENCE_LEVEL (at once when unfiltered)."""
    filtered = st[I_FILTER_ON] == 1
    draining = st[I_ACTIVE] == DRAINING
    drain_left, fade_left, fade_total = int(st[I_DRAIN_LEFT]), int(st[I_FADE_LEFT]), int(st[I_FADE_TOTAL])
    g, g_target = float(fs[F_G]), float(fs[F_G_TGT])
    z = [float(fs[F_Z1]), float(fs[F_Z2]), float(fs[F_Z3]), float(fs[F_Z4])]
    gains = [float(fs[F_GAIN_L]), float(fs[F_GAIN_R]), float(fs[F_GAIN_M])]
    targets = [float(fs[F_TGT_L]), float(fs[F_TGT_R]), float(fs[F_TGT_M])]
    out = np.zeros((3, len(y)))
    n = 0
    for x in y.tolist():
        if draining:
            if drain_left <= 0 and (not filtered or sum(abs(v) for v in z) < SILENCE_LEVEL):
                break
            drain_left -= 1
        if filtered:
            g = ramp(g, g_target, smooth)
            x = low_pass(x, z, g)
        if fade_left >= 0:
            x *= fade_gain(fade_left, fade_total)
            fade_left = max(0, fade_left - 1)
        gains = [ramp(gain, target, smooth) for gain, target in zip(gains, targets, strict=True)]
        out[:, n] = [x * gain for gain in gains]
        n += 1
    fs[F_G] = g
    fs[F_Z1], fs[F_Z2], fs[F_Z3], fs[F_Z4] = z
    fs[F_GAIN_L], fs[F_GAIN_R], fs[F_GAIN_M] = gains
    st[I_FADE_LEFT] = fade_left
    st[I_DRAIN_LEFT] = drain_left
    return out, n


def power_on(st: np.ndarray, fs: np.ndarray, carry_row: np.ndarray, carry_res_row: np.ndarray) -> None:
    """A slot whose sound is over (faded out, or drained to silence): idle and cleared, no loop, no fade;
    it keeps its stem and its I_ENDED flag (which the engine reads and clears)."""
    stem, ended = int(st[I_STEM]), int(st[I_ENDED])
    st[:] = 0
    st[I_STEM], st[I_ENDED] = stem, ended
    st[I_FADE_LEFT] = st[I_LOOP_START] = st[I_LOOP_END] = -1
    fs[:] = 0.0
    carry_row[:] = 0.0
    carry_res_row[:] = 0.0


# --- every slot for a stretch of frames ---------------------------------------------------------------


def render_slot(s: int, first_frame: int, n_frames: int, istate, fstate, ram, carry, carry_res,
                smooth: float) -> tuple[np.ndarray, int]:
    """Slot s for frames [first_frame, first_frame + n_frames): (its left, right and mono output, the
    frames it sounds). The output runs half_taps frames behind the card's clock: output frame
    first_frame + j is the band-limited DAC at host time first_frame + j - half_taps."""
    st, fs = istate[s], fstate[s]
    half_taps = carry.shape[1] // 2
    # What steps before this call left: their band-limited signal in the carry for the first 2 * half_taps
    # frames, the value they settled to after that.
    base = np.full(n_frames + 2 * half_taps, float(fs[F_VALUE]))
    base[: 2 * half_taps] = carry[s]
    times, deltas = dac_steps(st, fs, ram[s], first_frame, n_frames, half_taps)
    y = band_limited(times, deltas, base, first_frame - half_taps, half_taps)
    carry[s] = y[n_frames:]
    carry_res[s] = 0.0
    out, n_sounding = filter_fade_mix(st, fs, y[:n_frames], smooth)
    if st[I_FADE_LEFT] == 0 or n_sounding < n_frames:
        power_on(st, fs, carry[s], carry_res[s])
    return out, n_sounding


def render_cards(
    out: np.ndarray,
    stems: np.ndarray,
    first_frame: int,
    n_frames: int,
    istate: np.ndarray,
    fstate: np.ndarray,
    ram: np.ndarray,
    carry: np.ndarray,
    carry_res: np.ndarray,
    scratch: np.ndarray,
    table: np.ndarray,
    table_diff: np.ndarray,
    smooth: float,
    n_threads: int = 1,
) -> None:
    """synth.card.render_cards, by the rules above: render every slot for frames [first_frame,
    first_frame + n_frames) and add into out (float32 (n_frames, 2)) and stems (float32 (n_frames,
    n_stems), or empty). The mix adds the slots in slot order in double precision and rounds once; each
    stem adds its slots in slot order. scratch, table, table_diff and n_threads are not used."""
    del scratch, table, table_diff, n_threads
    with_stems = stems.shape[0] > 0
    for st in istate:
        if st[I_ACTIVE] == PLAYING and (not 0 <= st[I_ADDR] < hw.WAVE_RAM_SAMPLES or st[I_TICK_INC] <= 0):
            raise ValueError("render: a slot's address or clock is out of range")
        if with_stems and not 0 <= st[I_STEM] < stems.shape[1]:
            raise ValueError("render: a slot's stem is out of range")
    mix = out[:n_frames].astype(np.float64)
    for s in range(istate.shape[0]):
        if istate[s, I_ACTIVE] == IDLE:
            continue
        signal, n = render_slot(s, first_frame, n_frames, istate, fstate, ram, carry, carry_res, smooth)
        mix[:n] += signal[:2, :n].T
        if with_stems:
            stem = int(istate[s, I_STEM])
            stems[:n, stem] = (stems[:n, stem].astype(np.float64) + signal[2, :n]).astype(np.float32)
    out[:n_frames] = mix.astype(np.float32)

