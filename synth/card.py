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
