"""The band-limited step's residual table: the stored copy, and the properties the kernel relies on."""

from __future__ import annotations

import numpy as np

from synth import blep


def test_stored_residual_table_is_the_one_the_settings_compute() -> None:
    with np.load(blep.STORED_TABLE) as stored:
        settings = stored["settings"]
    assert settings.tolist() == [blep.HALF_TAPS, blep.PHASES, blep.CUTOFF_FRACTION, blep.KAISER_BETA]
    np.testing.assert_array_equal(blep.stored_residual_table(), blep.residual_table())


def test_residual_table_has_a_row_per_phase_and_a_column_per_frame_touched() -> None:
    table = blep.stored_residual_table()
    assert table.shape == (blep.PHASES + 1, 2 * blep.HALF_TAPS)
    assert table.dtype == np.float64 and table.flags.c_contiguous


def test_residual_dies_away_at_both_ends_of_the_kernel() -> None:
    table = blep.stored_residual_table()
    # The step has settled (residual near 0) HALF_TAPS frames either side of it: below -60 dB of the step.
    assert np.abs(table[:, [0, -1]]).max() < 1e-3
    # ...and it is largest at the frames around the step, where the held staircase jumps.
    assert np.abs(table).max() > 0.3
