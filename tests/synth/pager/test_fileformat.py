"""The song file: every field's range refused in one line naming the file, the line and the field; exact round trips."""

import pytest

from synth.pager import Note, Play, SongFileError, Tie, dumps_song, load_song, loads_song, save_song
from pager_songs import BASE, EXAMPLE, base_with


def error_of(text: str) -> str:
    with pytest.raises(SongFileError) as caught:
        loads_song(text, "song.toml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_base_song_reads_every_kind_of_cell():
    song = loads_song(BASE)
    a = song.patterns[1].tracks[0]
    assert a[:4] == (Note(38), Tie(), Tie(), None)
    assert a[4] == Note(41, velocity=80) and a[6] == Note(40, gate_percent=50)
    assert song.patterns[1].tracks[7][0] == Note(36)
    assert song.patterns[2].n_steps == 9 and song.patterns[2].metre == (3, 4)
    assert song.song == (Play(1, 2), "A") and song.sections == {"A": (Play(2), Play(1))}
    assert song.registers[0].channel == 1 and song.registers[0].level == 90
    assert song.registers[1].channel == 1  # B keeps its own letter's channel, 2


@pytest.mark.parametrize(("old", "new", "where"), [
    ('speed = 2618', 'speed = 499', "2: speed: speed 499 is outside 500-65535"),
    ('speed = 2618', 'speed = 65536', "2: speed: speed 65536 is outside 500-65535"),
    ('speed = 2618', 'speed = "fast"', "2: speed: 'fast' is not a whole number"),
    ('speed = 2618', 'bpm = 700', "2: bpm: 700 is outside 4.79-628.32 BPM"),
    ('speed = 2618', 'bpm = 4', "2: bpm: 4 is outside"),
    ('title = "Base"', 'title = "Base"\nbpm = 120', "2: bpm: give the tempo as speed or as bpm"),
    ('grid = "1/16"', 'grid = "1/12"', "3: grid: '1/12' is not a grid"),
    ('metre = "4/4"', 'metre = "5/3"', "4: metre: '5/3' is not a metre"),
    ('metre = "4/4"', 'metre = "33/4"', "4: metre: '33/4' is not a metre"),
    ('song = "1x2 A"', 'song = "1x0 A"', "5: song: step 1: 0 repeats is outside 1-255"),
    ('song = "1x2 A"', 'song = "1x256"', "5: song: step 1: 256 repeats is outside 1-255"),
    ('song = "1x2 A"', 'song = "9"', "5: song: step 1: pattern 9 is not defined"),
    ('song = "1x2 A"', 'song = "1 Z"', "5: song: step 2: section 'Z' is not defined"),
    ('song = "1x2 A"', 'song = "1 q"', "5: song: step 2: 'q' is not N, NxR"),
    ('song = "1x2 A"', 'song = ""', "5: song: the song list is empty"),
    ('song = "1x2 A"', 'song = "' + "1 " * 256 + '"', "5: song: 256 steps; the song list holds at most 255"),
    ('A = "2 1"', 'A = "1 1 1 1 1 1 1 1 1"', "8: sections.A: 9 steps; a section holds at most 8"),
    ('A = "2 1"', 'A = "2 B"\nB = "A"', "8: sections.A: sections call each other in a cycle (A -> B -> A)"),
    ('A = "2 1"', 'A = "2 1"\nAB = "1"', "9: sections.AB: sections are named by one capital letter"),
    ('channel = 2, level = 90', 'channel = 17, level = 90', "11: registers.A.channel: channel 17 is outside 1-16"),
    ('channel = 2, level = 90', 'channel = 0, level = 90', "11: registers.A.channel: channel 0 is outside 1-16"),
    ('channel = 2, level = 90', 'channel = 2, level = 128', "11: registers.A.level: level 128 is outside 0-127"),
    ('voice = "synth-bass"', 'voice = 5', "11: registers.A.voice: 5 is not text"),
    ('voice = "synth-bass"', 'voice = "piano", pan = 3', "11: registers.A.pan: unknown key"),
    ('channel = 2, level = 90', 'channel = 10, level = 90', "11: registers.A.voice: channel 10 plays the drum kit"),
    ('H = { voice = "drums", channel = 10 }', 'H = { voice = "drums", channel = 3 }',
     "12: registers.H.voice: 'drums' is the kit of channel 10"),
    ('H = { voice = "drums", channel = 10 }', 'I = { channel = 3 }', "12: registers.I: registers are A-H"),
    ('H = { voice = "drums", channel = 10 }', 'H = { voice = "drums", channel = 10 }\nB = { channel = 2 }\n'
     '[patterns.3]\nB = "C4 . . . . . . . . . . . . . . ."',
     "13: registers.B: shares channel 2 with register A"),
    ('[patterns.1]', '[patterns.256]', "14: patterns.256: patterns are numbered 1-255"),
    ('[patterns.1]', '[patterns.01]', "14: patterns.01: patterns are numbered 1-255"),
    ('A = "D2 - - . | F2:80', 'A = "D2 - . | F2:80', "15: patterns.1.A: 15 steps, but the bar has 16"),
    ('| D2 . . . | . . A1 -"', '| D2 . . . | . . H9 -"', "15: patterns.1.A: step 15: 'H9' is not a note"),
    ('| D2 . . . | . . A1 -"', '| D2 . . . | . . G#9 -"', "15: patterns.1.A: step 15: G#9 is outside the MIDI keys"),
    ('| D2 . . . | . . A1 -"', '| D2 . . . | . . 128 -"', "15: patterns.1.A: step 15: 128 is outside the MIDI keys"),
    ('F2:80', 'F2:0', "15: patterns.1.A: step 5: velocity 0 is outside 1-127"),
    ('F2:80', 'F2:128', "15: patterns.1.A: step 5: velocity 128 is outside 1-127"),
    ('E2/50', 'E2/0', "15: patterns.1.A: step 7: length 0% is outside 1-100"),
    ('E2/50', 'E2/101', "15: patterns.1.A: step 7: length 101% is outside 1-100"),
    ('E2/50 .', 'E2/50 -', "15: patterns.1.A: step 8: a tie after a note that ends at 50%"),
    ('| D2 . . . | . . A1 -"', '| D2 . . . | . - A1 -"', "15: patterns.1.A: step 14: a tie after a rest"),
    ('H = "36', 'I = "36', "16: patterns.1.I: unknown key"),
    ('metre = "3/4"\ngrid = "1/8T"', 'metre = "7/8"\ngrid = "1/4"',
     "20: patterns.2.grid: a bar of 7/8 is not a whole number"),
    ('title = "Base"', 'title = "Base"\ntempo = 3', "2: tempo: unknown key"),
    ('title = "Base"', 'title = "Base"\nspeed = 3', "3: not valid TOML"),
    ('song = "1x2 A"\n', '', "song: no song list"),
])
def test_a_bad_field_is_named_with_its_file_and_line(old, new, where):
    message = error_of(base_with(old, new))
    assert message.startswith("song.toml"), message
    if where[0].isdigit():
        assert message.startswith(f"song.toml:{where}"), message
    else:
        assert message.startswith(f"song.toml:5: {where}") or where in message, message


def test_an_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "song.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SongFileError, match="not a text file"):
        load_song(path)
    with pytest.raises(SongFileError, match="no such file"):
        load_song(tmp_path / "missing.toml")


def test_bpm_is_stored_as_the_nearest_speed():
    assert loads_song(base_with("speed = 2618", "bpm = 120")).speed == 2618
    assert loads_song(base_with("speed = 2618", "bpm = 90")).speed == 3491  # 314160 / 90 = 3490.67


@pytest.mark.parametrize("text", [BASE, EXAMPLE.read_text()])
def test_save_then_load_gives_the_same_song(tmp_path, text):
    song = loads_song(text)
    path = tmp_path / "again.toml"
    save_song(song, path)
    assert load_song(path) == song
    assert dumps_song(load_song(path)) == path.read_text()


def test_saved_tracks_line_up_and_drums_keep_numbers():
    text = dumps_song(loads_song(BASE))
    a = next(line for line in text.splitlines() if line.startswith('A = "D2'))
    h = next(line for line in text.splitlines() if line.startswith('H = "36'))
    assert [i for i, c in enumerate(a) if c == "|"] == [i for i, c in enumerate(h) if c == "|"]
    assert "38" in h and "D2" in a


def test_the_readme_example_song_is_a_valid_song():
    import re

    readme = (EXAMPLE.parents[1] / "README.md").read_text()
    section = readme.split("## Page R songs", 1)[1]
    text = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    song = loads_song(text)
    assert song.speed == 3490 and song.sections["A"] == (Play(2, 3), Play(3))
    assert song.patterns[2].n_steps == 12 and song.patterns[1].tracks[0][6] == Note(40, gate_percent=50)
    assert "song.toml:15: patterns.1.A: step 5: velocity 0 is outside 1-127" in section
    assert error_of(BASE.replace("F2:80", "F2:0")) == "song.toml:15: patterns.1.A: step 5: velocity 0 is outside 1-127"
