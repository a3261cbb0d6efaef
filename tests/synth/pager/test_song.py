"""The song model: speed and BPM, the CMI's limits, sections expanding and cycles refused."""

import pytest

from synth.pager import Note, Pattern, Play, Song, SongError, bpm_to_speed, speed_to_bpm
from synth.pager.song import MAX_EXPANDED_BARS, SPEED_DEFAULT


def one_bar(key: int = 60) -> Pattern:
    return Pattern(tracks=((Note(key),) + (None,) * 15,) + ((None,) * 16,) * 7)


def test_speed_2618_is_120_bpm_and_back():
    assert SPEED_DEFAULT == 2618
    assert speed_to_bpm(2618) == pytest.approx(120.0, abs=1e-9)
    assert bpm_to_speed(120) == 2618
    assert speed_to_bpm(500) == pytest.approx(628.32) and speed_to_bpm(65535) == pytest.approx(4.7938, abs=1e-4)
    for speed in (500, 1234, 2618, 3490, 65535):
        assert bpm_to_speed(speed_to_bpm(speed)) == speed


def test_sections_nest_and_expand_in_order():
    song = Song(patterns={1: one_bar(60), 2: one_bar(62), 3: one_bar(64)},
                song=(Play(1), "B", Play(3, 2)), sections={"A": (Play(2, 2),), "B": ("A", Play(1))})
    assert list(song.bars()) == [(0, 1), (1, 2), (1, 2), (1, 1), (2, 3), (2, 3)]
    assert list(song.bars(from_step=2)) == [(2, 3), (2, 3)]
    assert song.entry_bars("B") == 3


def test_a_cycle_of_sections_is_refused_with_its_path():
    with pytest.raises(SongError, match=r"cycle \(A -> B -> C -> A\)"):
        Song(patterns={1: one_bar()}, song=("A",), sections={"A": ("B",), "B": (Play(1), "C"), "C": ("A",)})
    with pytest.raises(SongError, match=r"cycle \(A -> A\)"):
        Song(patterns={1: one_bar()}, song=("A",), sections={"A": ("A",)})


def test_a_song_that_expands_beyond_its_limit_is_refused_before_playing():
    eight = tuple("B" for _ in range(8))
    sections = {"A": (Play(1, 255),) * 8, "B": ("A",) * 8}
    with pytest.raises(SongError, match="expands to"):
        Song(patterns={1: one_bar()}, song=("C",), sections={**sections, "C": eight})
    assert MAX_EXPANDED_BARS < 255 * 8 * 8 * 8
    assert Song(patterns={1: one_bar()}, song=("B",), sections=sections).entry_bars("B") == 255 * 8 * 8


def test_limits_of_patterns_and_song_steps():
    with pytest.raises(SongError, match="outside 1-255"):
        Song(patterns={256: one_bar()}, song=(Play(256),))
    with pytest.raises(SongError, match="at most 255"):
        Song(patterns={1: one_bar()}, song=(Play(1),) * 256)
    with pytest.raises(SongError, match="speed"):
        Song(patterns={1: one_bar()}, song=(Play(1),), speed=499)


def test_a_pattern_whose_grid_does_not_divide_its_bar_is_refused():
    with pytest.raises(SongError, match="not a whole number of 1/4 steps"):
        Pattern(tracks=((None,) * 3,) * 8, grid="1/4", metre=(7, 8))
    assert Pattern(tracks=((None,) * 12,) * 8, grid="1/8T", metre=(4, 4)).n_steps == 12
