"""ChannelCard: the playing state of the CMI's cards, and the compiled kernel that renders them.

A card is what changes while a note plays: its address counter, clock, envelope counter, segment
timer and filter memory. The patch it plays (synth.voice.Voice) never changes. All cards live in
a few arrays (one row a slot) so that one call of the kernel renders every card for a stretch of
frames; the kernel is the C extension synth._cards, and render_cards below is its Python face.

Time inside the kernel is a fixed-point count of host frames with TIME_FRAC_BITS fraction bits
(an integer accumulator: no float drift, and rendering in blocks of any size gives the same ticks).
"""

from __future__ import annotations

import math

import numpy as np

from synth import _cards
from synth import hardware as hw

TIME_FRAC_BITS = 32
TIME_ONE = 1 << TIME_FRAC_BITS

# Slot activity.
# ENDING: the note has stopped and the DAC returns to zero at I_NEXT_TICK, which lies past the frames
# rendered so far; then DRAINING.
IDLE, PLAYING, DRAINING, ENDING = 0, 1, 2, 3

# Integer state columns.
I_ACTIVE = 0
I_MODE = 1  # 1 or 4
I_ADDR = 2  # 0..16383, the next RAM address to play
I_NEXT_TICK = 3  # fixed-point host time of the next clock tick
I_TICK_INC = 4  # fixed-point host frames per card clock tick
I_ENV = 5  # envelope counter 0..255
I_ENV_DIR = 6  # +1 attack, -1 decay or release, 0 stopped
I_ENV_NEXT = 7  # fixed-point host time of the next envelope timer clock
I_ENV_PERIOD = 8  # fixed-point host frames per envelope timer clock, for the current phase
I_ENV_TARGET = 9  # level where the current phase stops
I_ENV_STAGE = 10  # 0 attack, 1 decay, 2 sustain, 3 release
I_PENDING_RELEASE = 11  # key released: the envelope turns at the next wrap
I_RATE_ACC = 12  # the 7497 rate multiplier's accumulator
I_CURVE = 13  # 0 linear, 1 exponential (M from the level before the step), 2 exponential (after it)
I_LOOP_START = 14  # segment, -1 without loop
I_LOOP_END = 15
I_SEG_NEXT = 16  # Mode 1: fixed-point host time when the segment timer next elapses
I_SEG_PERIOD = 17
I_SEG_PENDING = 18  # Mode 1: segment changes waiting for the wrap
I_VOLUME = 19  # the 8-bit volume latch
I_PERIOD_DECAY = 20
I_PERIOD_RELEASE = 21
I_SUSTAIN = 22
I_ENDED = 23  # set by the kernel when a note falls silent: the engine frees its card
I_DRAIN_LEFT = 24  # frames of tail still to render after the last tick
I_FADE_LEFT = 25  # frames of steal fade left (shadow slots); -1 without fade
I_FADE_TOTAL = 26
I_FILTER_ON = 27
I_STEM = 28  # stem (card) index the slot's output goes to
N_ISTATE = 29

# Float state columns.
F_VALUE = 0  # the value held by the DAC x envelope x volume now (full scale 1.0)
F_GAIN_L = 1  # mixer gains now and their targets (smoothed per frame)
F_GAIN_R = 2
F_GAIN_M = 3
F_TGT_L = 4
F_TGT_R = 5
F_TGT_M = 6
F_G = 7  # filter coefficient G = g / (1 + g) now, and its target
F_G_TGT = 8
F_Z1 = 9
F_Z2 = 10
F_Z3 = 11
F_Z4 = 12
N_FSTATE = 13

# Per-frame smoothing of mixer gains and filter cutoff (stmlib-style parameter ramps): a one-pole
# with a 5 ms time constant; set per engine from its rate.
SMOOTHING_TIME_S = 0.005
# A draining slot is idle once its filter memory has fallen below this (about -140 dBFS).
SILENCE_LEVEL = 1e-7
# Frames of a steal's fade (a few ms, so the stolen note does not click).
STEAL_FADE_S = 0.004


def filter_coefficient(cutoff_hz: float, rate_hz: float) -> float:
    """G of a trapezoidal one-pole low-pass (prewarped), for one of the four poles."""
    g = math.tan(math.pi * min(cutoff_hz, 0.49 * rate_hz) / rate_hz)
    return g / (1.0 + g)


def envelope_period(timer_value: int, rate_hz: int) -> int:
    """Fixed-point host frames per envelope step for an envelope timer value."""
    return int(round(hw.envelope_step_s(timer_value) * rate_hz * TIME_ONE))


def scratch_doubles(n_slots: int, n_frames: int, half_taps: int) -> int:
    """Size of the scratch render_cards needs: per slot, the held staircase and the steps' residuals
    with their look-ahead (n_frames + 2 * half_taps each) and the filtered left, right and stem
    signals (n_frames each)."""
    return n_slots * (5 * n_frames + 4 * half_taps)


def kernel_tables(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The residual table as the kernel reads it: float32 rows, and row p + 1 minus row p (zero for the
    last row), so that it interpolates between phases as r[p] + frac * diff[p]."""
    diff = np.zeros_like(table)
    diff[:-1] = table[1:] - table[:-1]
    return np.ascontiguousarray(table, dtype=np.float32), np.ascontiguousarray(diff, dtype=np.float32)


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
    """Render every slot for frames [first_frame, first_frame + n_frames) and add into out (and stems).

    out is float32 (n_frames, 2), stems float32 (n_frames, n_cards) or empty; istate int64
    (n_slots, N_ISTATE), fstate float64 (n_slots, N_FSTATE), ram float32 (n_slots, 16384), carry
    float64 and carry_res float32 (n_slots, 2 * HALF_TAPS), scratch float64 of at least scratch_doubles(...), table and
    table_diff float32 (phases + 1, 2 * HALF_TAPS) from kernel_tables. With n_threads 2 the slots are shared between two
    threads; the samples are the same either way. The output is late by HALF_TAPS frames (the
    band-limited steps look ahead that far).

    Per slot, per clock tick: 1. the envelope timer clocks that fell before the tick (through the 7497
    rate multiplier on the exponential curve); 2. the DAC latches the sample at the address, and the
    step from the old value is added as a band-limited residual (synth.blep); 3. the address counter
    advances, and when its low 7 bits wrap the segment logic (Mode 1 stepping, loops, the end of RAM)
    and the envelope's turns take effect. Then per frame: 4. the 4-pole filter, the steal fade and
    the mixer gains. The loop itself is C (synth/_cards.c).
    """
    _cards.render(out, stems, first_frame, n_frames, istate, fstate, ram, carry, carry_res, scratch, table,
                  table_diff, smooth, n_threads)


class CardBank:
    """The state of n_cards channel cards, each with a shadow slot where a stolen note fades out, and
    every change made to it: a note started, released, handed to the shadow, a slot cleared; the pitch,
    mixer gains and filter set. The engine decides which card plays what (it routes MIDI); only this
    class writes the state columns, and the kernel (render) advances them.

    Slots 0..n_cards-1 are the cards, n_cards..2 n_cards-1 their shadows (card c's is c + n_cards).
    `kernel` renders them: render_cards above (the compiled kernel), or a function with its signature and
    state, such as synth.card_reference.render_cards (the same rules in plain Python, slow).
    """

    def __init__(self, n_cards: int, rate_hz: int, half_taps: int, exponential_curve: int,
                 kernel=render_cards) -> None:
        self.n_cards = n_cards
        self.kernel = kernel
        self.rate_hz = rate_hz
        self.half_taps = half_taps  # the band limit's look-ahead: the output runs this far behind
        self.exponential_curve = exponential_curve  # I_CURVE for a voice on the exponential curve
        n_slots = 2 * n_cards
        self.istate = np.zeros((n_slots, N_ISTATE), dtype=np.int64)
        self.fstate = np.zeros((n_slots, N_FSTATE), dtype=np.float64)
        self.ram = np.zeros((n_slots, hw.WAVE_RAM_SAMPLES), dtype=np.float32)
        self.carry = np.zeros((n_slots, 2 * half_taps), dtype=np.float64)
        self.carry_res = np.zeros((n_slots, 2 * half_taps), dtype=np.float32)
        self.scratch = np.zeros(0, dtype=np.float64)
        self.smooth = 1.0 - math.exp(-1.0 / (SMOOTHING_TIME_S * rate_hz))
        self.fade_frames = max(1, int(round(STEAL_FADE_S * rate_hz)))
        self.reset()

    def reset(self) -> None:
        """Every slot silent and cleared."""
        for s in range(2 * self.n_cards):
            self.clear(s)

    # --- what the engine asks ----------------------------------------------------------------------

    @property
    def any_active(self) -> bool:
        return bool(self.istate[:, I_ACTIVE].any())

    def n_active_cards(self) -> int:
        """Cards playing or ringing out (not counting steal fades)."""
        return int(np.count_nonzero(self.istate[: self.n_cards, I_ACTIVE]))

    def is_idle(self, c: int) -> bool:
        return self.istate[c, I_ACTIVE] == IDLE

    # --- changes ---------------------------------------------------------------------------------

    def clear(self, s: int) -> None:
        """Slot s silent, its state at power-on (no loop, no fade), its output to its own card's stem."""
        self.istate[s] = 0
        self.istate[s, I_FADE_LEFT] = -1
        self.istate[s, I_LOOP_START] = -1
        self.istate[s, I_LOOP_END] = -1
        self.istate[s, I_STEM] = s % self.n_cards
        self.fstate[s] = 0.0
        self.carry[s] = 0.0
        self.carry_res[s] = 0.0

    def steal_to_shadow(self, c: int) -> None:
        """Hand card c's sound to its shadow slot, which fades it out over STEAL_FADE_S; c is cleared."""
        s = c + self.n_cards
        self.istate[s] = self.istate[c]
        self.fstate[s] = self.fstate[c]
        self.ram[s] = self.ram[c]
        self.carry[s] = self.carry[c]
        self.carry_res[s] = self.carry_res[c]
        # The output runs half_taps frames behind the cards' clocks, so the note that takes the card
        # sounds that much later than now: the fade holds until then and ends STEAL_FADE_S after it.
        self.istate[s, I_FADE_LEFT] = self.fade_frames + self.half_taps
        self.istate[s, I_FADE_TOTAL] = self.fade_frames
        self.istate[s, I_ENDED] = 0
        self.clear(c)

    def envelope_period(self, timer_value: int) -> int:
        return envelope_period(timer_value, self.rate_hz)

    def start(self, c: int, voice, frame: int, volume: int, tick_increment: int) -> None:
        """Card c starts a note of `voice` at host `frame`: phase 0 of its start segment, the envelope
        at 0 rising, the volume latch at `volume`; a note still sounding on c fades out in its shadow."""
        if self.istate[c, I_ACTIVE] != IDLE:
            self.steal_to_shadow(c)
        else:
            self.clear(c)
        st = self.istate[c]
        t0 = frame << TIME_FRAC_BITS
        attack = self.envelope_period(voice.attack_timer)
        st[I_ACTIVE] = PLAYING
        st[I_MODE] = voice.mode
        # Page 7 START SEG: the note starts at phase 0 of its start segment.
        st[I_ADDR] = voice.start_segment * hw.SEGMENT_SAMPLES
        st[I_NEXT_TICK] = t0
        st[I_TICK_INC] = tick_increment
        st[I_ENV] = 0
        st[I_ENV_DIR] = 1
        st[I_ENV_TARGET] = hw.ENVELOPE_MAX
        st[I_ENV_STAGE] = 0
        st[I_ENV_PERIOD] = attack
        st[I_ENV_NEXT] = t0 + attack
        st[I_PERIOD_DECAY] = self.envelope_period(voice.decay_timer)
        st[I_PERIOD_RELEASE] = self.envelope_period(voice.damping_timer)
        st[I_SUSTAIN] = voice.sustain_level
        st[I_CURVE] = self.exponential_curve if voice.curve == "exponential" else 0
        st[I_LOOP_START] = -1 if voice.loop_start_segment is None else voice.loop_start_segment
        st[I_LOOP_END] = -1 if voice.loop_end_segment is None else voice.loop_end_segment
        seg_period = round(
            hw.segment_timer_ticks(voice.segment_time_s) / hw.SEGMENT_TIMER_HZ * self.rate_hz * TIME_ONE
        )
        st[I_SEG_PERIOD] = seg_period
        st[I_SEG_NEXT] = t0 + seg_period
        st[I_VOLUME] = volume
        st[I_FADE_LEFT] = -1
        st[I_STEM] = c
        self.ram[c] = voice.levels

    def release(self, c: int) -> None:
        """Key up: the envelope turns to its release (DAMPING) at the next wrap."""
        self.istate[c, I_PENDING_RELEASE] = 1

    def set_tick_increment(self, c: int, tick_increment: int) -> None:
        """A new card clock (pitch bend), in fixed-point host frames per tick."""
        self.istate[c, I_TICK_INC] = tick_increment

    def set_gains(self, c: int, left: float, right: float, mono: float, jump: bool = False) -> None:
        """The mixer gains the card's output ramps to (at once with jump, as when a note starts)."""
        fs = self.fstate[c]
        fs[F_TGT_L], fs[F_TGT_R], fs[F_TGT_M] = left, right, mono
        if jump:
            fs[F_GAIN_L], fs[F_GAIN_R], fs[F_GAIN_M] = left, right, mono

    def set_filter(self, c: int, cutoff_hz: float | None, jump: bool = False) -> None:
        """The filter's cutoff (each pole's), ramped to (at once with jump, as when a note starts); None:
        wide open. A note that starts wide open bypasses the filter. While a note plays the filter does
        not switch in or out, which would step from the filtered signal to the plain one and click: one
        opening fully glides to the widest cutoff and stays in the path, and one closing on a note that
        bypassed it enters at the widest cutoff, settled on the signal it passes (as if it had always
        been there), and glides down from there."""
        st, fs = self.istate[c], self.fstate[c]
        if cutoff_hz is None:
            if jump or not st[I_FILTER_ON]:
                st[I_FILTER_ON] = 0
                return
            cutoff_hz = math.inf  # filter_coefficient's widest, just below the host's Nyquist frequency
        g = filter_coefficient(cutoff_hz, self.rate_hz)
        if not st[I_FILTER_ON] and not jump:
            fs[F_G] = filter_coefficient(math.inf, self.rate_hz)
            # settled on the signal it reads next: the band-limited staircase's first frame past the
            # frames rendered, which the carry holds (the steps' residuals in carry_res)
            fs[F_Z1] = fs[F_Z2] = fs[F_Z3] = fs[F_Z4] = self.carry[c, 0] + float(self.carry_res[c, 0])
        st[I_FILTER_ON] = 1
        fs[F_G_TGT] = g
        if jump:
            fs[F_G] = g

    # --- rendering -------------------------------------------------------------------------------

    def render(self, mix: np.ndarray, stems: np.ndarray, first_frame: int, n_frames: int, table: np.ndarray,
               table_diff: np.ndarray, n_threads: int = 1) -> list[int]:
        """Add every slot's frames [first_frame, first_frame + n_frames) into mix (and stems); returns
        the cards whose notes fell silent in them, now idle, for the allocator to free."""
        need = scratch_doubles(2 * self.n_cards, n_frames, self.half_taps)
        if self.scratch.shape[0] < need:
            self.scratch = np.zeros(need, dtype=np.float64)
        if not n_frames or not self.any_active:
            return []
        self.kernel(mix, stems, first_frame, n_frames, self.istate, self.fstate, self.ram, self.carry,
                    self.carry_res, self.scratch, table, table_diff, self.smooth, n_threads)
        ended = [int(c) for c in np.flatnonzero(self.istate[: self.n_cards, I_ENDED])]
        for c in ended:
            self.istate[c, I_ENDED] = 0
        return ended
