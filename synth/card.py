"""ChannelCard: the playing state of the CMI's cards, and the compiled kernel that renders them.

A card is what changes while a note plays: its address counter, clock, envelope counter, segment
timer and filter memory. The patch it plays (synth.voice.Voice) never changes. All cards live in
a few arrays (one row a card) so that one call of the kernel renders every card for a stretch of
frames; `CardBank` is the Python face of those arrays.

Time inside the kernel is a fixed-point count of host frames with TIME_FRAC_BITS fraction bits
(an integer accumulator: no float drift, and rendering in blocks of any size gives the same ticks).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from synth import hardware as hw

TIME_FRAC_BITS = 32
TIME_ONE = 1 << TIME_FRAC_BITS

# Slot activity.
IDLE, PLAYING, DRAINING = 0, 1, 2

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
I_CURVE = 13  # 0 linear, 1 exponential
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


@njit(cache=True, nogil=True, fastmath=False)
def render_cards(
    out: np.ndarray,
    stems: np.ndarray,
    first_frame: int,
    n_frames: int,
    istate: np.ndarray,
    fstate: np.ndarray,
    ram: np.ndarray,
    carry: np.ndarray,
    scratch: np.ndarray,
    table: np.ndarray,
    smooth: float,
) -> None:
    """Render every slot for frames [first_frame, first_frame + n_frames) and add into out (and stems).

    The output is late by HALF_TAPS frames (the band-limited steps look ahead that far).
    """
    half = table.shape[1] // 2
    one = np.int64(1) << np.int64(TIME_FRAC_BITS)
    end_frame = first_frame + n_frames
    # A tick belongs to this call when its first held frame ceil(t) is < end_frame.
    tick_limit = np.int64(end_frame - 1) * one + 1
    n_slots = istate.shape[0]
    has_stems = stems.shape[0] > 0
    for s in range(n_slots):
        st = istate[s]
        if st[I_ACTIVE] == IDLE:
            continue
        buf = scratch[: n_frames + 2 * half]
        buf[:] = 0.0
        buf[: 2 * half] = carry[s]
        fs = fstate[s]
        value = fs[F_VALUE]
        pos = half  # buffer index of the next frame whose held value is not yet written
        if st[I_ACTIVE] == PLAYING:
            t = st[I_NEXT_TICK]
            inc = st[I_TICK_INC]
            addr = st[I_ADDR]
            env = st[I_ENV]
            env_dir = st[I_ENV_DIR]
            env_next = st[I_ENV_NEXT]
            env_period = st[I_ENV_PERIOD]
            rate_acc = st[I_RATE_ACC]
            exponential = st[I_CURVE] == 1
            mode = st[I_MODE]
            volume_scale = st[I_VOLUME] / (255.0 * 255.0)
            level_ram = ram[s]
            ended = False
            while t < tick_limit:
                # 1. The envelope timer clocks that fell before this tick.
                if env_dir != 0:
                    while env_next <= t:
                        env_next += env_period
                        if exponential:
                            # 7497 rate multiplier: M of every 64 clocks pass, M from the level's
                            # top four bits (mirrored when attacking).
                            lvl = env if env_dir < 0 else 255 - env
                            rate_acc += 4 * (lvl >> 4) + 3
                            if rate_acc < hw.RATE_MULTIPLIER_CLOCKS:
                                continue
                            rate_acc -= hw.RATE_MULTIPLIER_CLOCKS
                        env += env_dir
                        if env == st[I_ENV_TARGET]:
                            env_dir = 0
                            break
                # 2. The DAC latches the sample at this address.
                new_value = level_ram[addr] * (env * volume_scale)
                pos = _step(buf, table, pos, t, first_frame, value, new_value)
                value = new_value
                t += inc
                # 3. The address counter; segment logic acts when the low 7 bits wrap 127 -> 0.
                addr += 1
                if addr & (hw.SEGMENT_SAMPLES - 1) == 0:
                    seg = (addr >> 7) - 1  # the segment just finished
                    if mode == 1:
                        while st[I_SEG_NEXT] <= t:
                            st[I_SEG_NEXT] += st[I_SEG_PERIOD]
                            st[I_SEG_PENDING] += 1
                        nxt = seg
                        if st[I_SEG_PENDING] > 0:
                            st[I_SEG_PENDING] -= 1
                            if st[I_LOOP_START] >= 0 and seg == st[I_LOOP_END]:
                                nxt = st[I_LOOP_START]
                            else:
                                nxt = seg + 1
                                if nxt >= hw.MODE1_SEGMENTS:
                                    ended = True
                        addr = nxt * hw.SEGMENT_SAMPLES
                    else:
                        if st[I_LOOP_START] >= 0 and seg == st[I_LOOP_END]:
                            addr = st[I_LOOP_START] * hw.SEGMENT_SAMPLES
                        elif addr >= hw.WAVE_RAM_SAMPLES:
                            ended = True
                    # Envelope reloads and turns take effect here.
                    stage = st[I_ENV_STAGE]
                    if st[I_PENDING_RELEASE] == 1 and stage != 3:
                        st[I_ENV_STAGE] = 3
                        env_dir = -1
                        st[I_ENV_TARGET] = 0
                        env_period = st[I_PERIOD_RELEASE]
                        env_next = t + env_period
                        rate_acc = 0
                        if env == 0:
                            env_dir = 0
                    elif stage == 0 and env_dir == 0:
                        # The attack has reached the top: decay to the sustain level (or hold).
                        if st[I_SUSTAIN] < env:
                            st[I_ENV_STAGE] = 1
                            env_dir = -1
                            st[I_ENV_TARGET] = st[I_SUSTAIN]
                            env_period = st[I_PERIOD_DECAY]
                            env_next = t + env_period
                            rate_acc = 0
                        else:
                            st[I_ENV_STAGE] = 2
                    if st[I_ENV_STAGE] == 3 and env == 0 and env_dir == 0:
                        ended = True
                    if ended:
                        break
            if ended:
                # The voice stops and the DAC returns to digital zero at the next tick.
                pos = _step(buf, table, pos, t, first_frame, value, 0.0)
                idx = pos
                value = 0.0
                st[I_ACTIVE] = DRAINING
                st[I_ENDED] = 1
                # The last step's residual reaches `half` frames past it.
                st[I_DRAIN_LEFT] = max(idx - half, 0) + 2 * half
            st[I_NEXT_TICK] = t
            st[I_ADDR] = addr
            st[I_ENV] = env
            st[I_ENV_DIR] = env_dir
            st[I_ENV_NEXT] = env_next
            st[I_ENV_PERIOD] = env_period
            st[I_RATE_ACC] = rate_acc
        # Held value for the rest of the block.
        for i in range(pos, n_frames + half):
            buf[i] += value
        fs[F_VALUE] = value
        carry[s, :] = buf[n_frames : n_frames + 2 * half]

        # 4. The analog low-pass (four trapezoidal one-poles), the steal fade, the mixer.
        filt = st[I_FILTER_ON] == 1
        g = fs[F_G]
        g_tgt = fs[F_G_TGT]
        z1 = fs[F_Z1]
        z2 = fs[F_Z2]
        z3 = fs[F_Z3]
        z4 = fs[F_Z4]
        gl = fs[F_GAIN_L]
        gr = fs[F_GAIN_R]
        gm = fs[F_GAIN_M]
        tl = fs[F_TGT_L]
        tr = fs[F_TGT_R]
        tm = fs[F_TGT_M]
        fade_left = st[I_FADE_LEFT]
        fade_total = st[I_FADE_TOTAL]
        stem = st[I_STEM]
        draining = st[I_ACTIVE] == DRAINING
        drain_left = st[I_DRAIN_LEFT]
        silent = False
        for i in range(n_frames):
            if draining:
                # Once every step's residual is out, what remains is the filter's own decay; the
                # slot stops at the first frame where that is inaudible, whatever the block size.
                if drain_left <= 0 and (
                    not filt or abs(z1) + abs(z2) + abs(z3) + abs(z4) < SILENCE_LEVEL
                ):
                    silent = True
                    break
                drain_left -= 1
            x = buf[i]
            if filt:
                g += (g_tgt - g) * smooth
                v = (x - z1) * g
                y = v + z1
                z1 = y + v
                v = (y - z2) * g
                y = v + z2
                z2 = y + v
                v = (y - z3) * g
                y = v + z3
                z3 = y + v
                v = (y - z4) * g
                y = v + z4
                z4 = y + v
                x = y
            if fade_left >= 0:
                x *= fade_left / fade_total
                if fade_left > 0:
                    fade_left -= 1
            gl += (tl - gl) * smooth
            gr += (tr - gr) * smooth
            gm += (tm - gm) * smooth
            out[i, 0] += x * gl
            out[i, 1] += x * gr
            if has_stems:
                stems[i, stem] += x * gm
        fs[F_G] = g
        fs[F_Z1] = z1
        fs[F_Z2] = z2
        fs[F_Z3] = z3
        fs[F_Z4] = z4
        fs[F_GAIN_L] = gl
        fs[F_GAIN_R] = gr
        fs[F_GAIN_M] = gm
        st[I_FADE_LEFT] = fade_left
        st[I_DRAIN_LEFT] = drain_left
        if fade_left == 0 or silent:
            _reset_slot(st, fs, carry[s])


@njit(cache=True, nogil=True, inline="always")
def _step(buf, table, pos, t, first_frame, value, new_value):
    """The DAC moves from value to new_value at fixed-point host time t: hold the old value up to the
    step, add the step's band-limited residual around it; returns the next frame to hold."""
    half = table.shape[1] // 2
    n_phases = table.shape[0] - 1
    n0 = (t + TIME_ONE - 1) >> TIME_FRAC_BITS  # the first frame that holds the new value
    idx = n0 - first_frame + half
    if idx > pos:
        for i in range(pos, idx):
            buf[i] += value
        pos = idx
    d = new_value - value
    if d != 0.0:
        gp = float((n0 << TIME_FRAC_BITS) - t) * (n_phases / TIME_ONE)
        ip = int(gp)
        fr = gp - ip
        row0 = table[ip]
        row1 = table[ip + 1] if ip < n_phases else table[ip]
        base = idx - half
        for c in range(2 * half):
            r0 = row0[c]
            buf[base + c] += d * (r0 + fr * (row1[c] - r0))
    return pos


@njit(cache=True, nogil=True)
def _reset_slot(st: np.ndarray, fs: np.ndarray, carry_row: np.ndarray) -> None:
    stem = st[I_STEM]
    ended = st[I_ENDED]
    st[:] = 0
    st[I_STEM] = stem
    st[I_ENDED] = ended
    st[I_FADE_LEFT] = -1
    st[I_LOOP_START] = -1
    st[I_LOOP_END] = -1
    fs[:] = 0.0
    carry_row[:] = 0.0
