"""Band-limited steps: how the cards' held (zero-order-hold) output reaches the host sample rate.

A card's DAC holds each sample until its next clock tick, so its output is a staircase with steps at
times that have nothing to do with the host's sample grid. Sampling that staircase directly would
fold every image above the host's Nyquist back into the band as inharmonic noise the hardware never
made (docs/hardware.md, behaviour 2). Instead every step of size d at host time t adds d * S(n - t) to
the output, where S is the step response of a low-pass at the host rate. We write it as the naive
held value plus a short residual r(x) = S(x) - H(x) (H the unit step) over 2 * HALF_TAPS frames,
which keeps the images below the host's Nyquist, with the hold's own sinc weighting, untouched.

Chosen by measurement against the alternatives the model names: oversampling by 16 and decimating
still folds the first images of a pitched-up single cycle to about -62 dB, while this kernel holds
everything that folds below -70 dB relative to the fundamental for the voices of the library.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Half the kernel length in host frames: the residual touches 2 * HALF_TAPS frames per step, and
# the engine's output is late by HALF_TAPS frames (compensated by the offline renderer).
HALF_TAPS = 16
# Phases of the tabulated residual per host frame; linear interpolation between them.
PHASES = 512
# Kaiser window shape: about 75 dB of stopband for this length.
KAISER_BETA = 7.5
# The low-pass's -6 dB point as a fraction of the host rate. With 32 taps and this window the
# transition band is about 0.14 of the host rate wide, so the stopband starts near the host's
# Nyquist (0.5) and the passband is flat to about 0.36 (16 kHz at 44.1 kHz).
CUTOFF_FRACTION = 0.43

_FINE = 64  # integration grid points per tabulated phase step


def residual_table(
    half_taps: int = HALF_TAPS,
    phases: int = PHASES,
    cutoff_fraction: float = CUTOFF_FRACTION,
    beta: float = KAISER_BETA,
) -> np.ndarray:
    """The band-limited step's residual, shape (phases + 1, 2 * half_taps).

    Row p is for a step whose first held frame n0 = ceil(t) lies g = p / phases frames after the step
    time t; column c is for frame n0 + c - half_taps. Row `phases` is the limit g -> 1.
    """
    # Fine grid over x in [-half_taps, half_taps]; integrate the windowed sinc numerically.
    n_fine = 2 * half_taps * phases * _FINE // 64 * 64
    x = np.linspace(-half_taps, half_taps, n_fine + 1)
    window = np.kaiser(n_fine + 1, beta)
    h = 2.0 * cutoff_fraction * np.sinc(2.0 * cutoff_fraction * x) * window
    dx = x[1] - x[0]
    step = np.concatenate(([0.0], np.cumsum((h[1:] + h[:-1]) * 0.5 * dx)))
    step /= step[-1]  # S(half_taps) = 1 exactly: a step settles to its full height

    g = np.arange(phases + 1) / phases
    cols = np.arange(2 * half_taps) - half_taps
    xq = cols[None, :] + g[:, None]  # x = n - t = (n0 + c - half_taps) - t = c - half_taps + g
    s = np.interp(xq, x, step)
    unit = (cols >= 0).astype(np.float64)[None, :]
    return s - unit


# residual_table() at the settings above, stored with the package: computing it takes about 0.15 s and
# 100 MB of temporaries (the fine integration grid), more than a whole render otherwise needs.
# `python -m synth.blep` writes it; tests/synth/test_blep.py checks that it is not stale.
STORED_TABLE = Path(__file__).with_name("blep_residual.npz")


def _settings() -> np.ndarray:
    return np.array([HALF_TAPS, PHASES, CUTOFF_FRACTION, KAISER_BETA], dtype=np.float64)


def stored_residual_table() -> np.ndarray:
    """residual_table() at this module's settings: the stored copy when it was made with them, else
    computed."""
    try:
        with np.load(STORED_TABLE) as stored:
            if np.array_equal(stored["settings"], _settings()):
                return np.ascontiguousarray(stored["table"], dtype=np.float64)
    except (OSError, KeyError, ValueError):
        pass
    return residual_table()


def write_stored_table(path: Path = STORED_TABLE) -> None:
    """Compute the residual table at this module's settings and store it for stored_residual_table."""
    np.savez(path, table=residual_table(), settings=_settings())


if __name__ == "__main__":
    write_stored_table()
    print(f"wrote {STORED_TABLE}")
