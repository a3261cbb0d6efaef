"""Page 7's parameters as a front sets them, and the envelope they draw."""

from __future__ import annotations

import pytest

from synth import hardware as hw
from synth.library import page7
from synth.voice import Voice, VoiceError
from synth.library.page4 import profile_voice
import numpy as np


def voice(**params) -> Voice:
    profile = np.zeros((32, 4))
    profile[:, 0] = 1
    return profile_voice("v", profile, **params)


def test_set_parameters_changes_only_what_it_is_given():
    v = page7.set_parameters(voice(), {"filter": 20, "attack_timer": 400})
    assert (v.filter, v.attack_timer, v.decay_timer) == (20, 400, 0)
    assert page7.parameters(v)["filter"] == 20


@pytest.mark.parametrize(("changes", "message"), [
    ({"filter": 128}, "filter must be 0..127"),
    ({"filter": 2.5}, "filter must be a whole number"),
    ({"filter": "20"}, "filter must be a number"),
    ({"curve": "log"}, "curve must be one of"),
    ({"mode": 2}, "mode must be 1 or 4"),
    ({"colour": 1}, "unknown Page 7 parameter 'colour'"),
    ({"loop_start_segment": 3, "loop_end_segment": None}, "needs both"),
    ({"start_segment": 40}, "start segment 40 outside 0..31"),  # Mode 1 has 32 segments
])
def test_set_parameters_refuses_a_bad_value_naming_it(changes, message):
    with pytest.raises(VoiceError, match=message):
        page7.set_parameters(voice(), changes)


def test_a_linear_attack_takes_255_steps_of_the_envelope_clock():
    points = page7.envelope_points(voice(attack_timer=99, sustain_level=255))
    t_top = next(t for t, level in points if level == 255)
    assert t_top == pytest.approx(255 * hw.envelope_step_s(99), rel=1e-9)


def test_an_exponential_decay_takes_about_3_9_times_the_linear_one():
    def decay_s(curve: str) -> float:
        points = page7.envelope_points(voice(decay_timer=50, sustain_level=0, curve=curve), hold_s=0.0)
        t_top = next(t for t, level in points if level == 255)
        t_zero = next(t for t, level in points if level == 0 and t > t_top)
        return t_zero - t_top

    # docs/hardware.md, Envelope: a full decay takes 3.9x the linear time (the mean of 64 / M over the levels passed)
    assert decay_s("exponential") / decay_s("linear") == pytest.approx(3.85, abs=0.06)


def test_the_envelope_holds_the_sustain_level_then_damps_to_zero():
    points = page7.envelope_points(voice(sustain_level=128, damping_timer=10), hold_s=0.5)
    levels = [level for _, level in points]
    assert levels[-1] == 0 and 128 in levels
    hold = [t for t, level in points if level == 128]
    assert hold[-1] - hold[-2] == pytest.approx(0.5)  # (the attack passes 128 too)
