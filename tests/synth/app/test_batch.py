"""Rendering several inputs into a folder: naming, bad files among good ones, parallel processes."""

from __future__ import annotations

import os

import mido
import pytest
import soundfile as sf

from synth.app.batch import BatchError, expand_inputs, output_name, plan_outputs
from synth.app.cli.main import main


def _song(path, seconds: float = 0.3, note: int = 60) -> str:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=note, velocity=100, time=0))
    track.append(mido.Message("note_off", note=note, time=int(seconds * 960)))
    midi.save(os.fspath(path))
    return os.fspath(path)


def _error_lines(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert all(line.startswith("liquidsky: error: ") for line in lines), err
    return lines


def test_a_folder_gives_its_midi_files_sorted_and_nothing_else(tmp_path):
    for name in ("b.mid", "a.MID", "c.midi", "notes.txt", "d.wav"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.mid").mkdir()  # a folder with a MIDI name is not a file
    inputs, problems = expand_inputs([os.fspath(tmp_path), "demo"])
    assert [os.path.basename(p) for p in inputs] == ["a.MID", "b.mid", "c.midi", "demo"]
    assert problems == []


def test_a_folder_without_midi_files_is_a_problem_line(tmp_path):
    inputs, problems = expand_inputs([os.fspath(tmp_path)])
    assert inputs == []
    assert problems == [(str(tmp_path), f"{tmp_path}: a folder with no .mid or .midi files")]


def test_outputs_are_named_after_their_inputs_and_a_clash_is_refused(tmp_path):
    assert output_name("songs/Fugue.mid", "flac") == "Fugue.flac"
    assert output_name("demo", "wav") == "demo.wav"
    assert plan_outputs(["a/x.mid", "b/y.midi"], "out", "wav") == [os.path.join("out", "x.wav"),
                                                                      os.path.join("out", "y.wav")]
    with pytest.raises(BatchError) as info:
        plan_outputs(["a/x.mid", "b/x.midi"], "out", "wav")
    assert str(info.value) == (f"a/x.mid and b/x.midi would both be written to {os.path.join('out', 'x.wav')}; "
                               "rename one or render them separately")


def test_several_inputs_render_into_the_folder_past_a_bad_file(tmp_path, capsys):
    songs = tmp_path / "songs"
    songs.mkdir()
    _song(songs / "one.mid", 0.3, 60)
    _song(songs / "two.mid", 0.6, 64)
    (songs / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00")
    out = tmp_path / "out"
    assert main(["render", os.fspath(songs), "demo", "-o", os.fspath(out), "--rate", "8000", "--format", "flac"]) == 2
    captured = capsys.readouterr()
    assert sorted(os.listdir(out)) == ["demo.flac", "manifest.jsonl", "one.flac", "two.flac"]
    assert sf.info(out / "two.flac").frames > sf.info(out / "one.flac").frames > 0.3 * 8000
    assert [line.split(":")[0] for line in captured.out.splitlines()] == [
        f"wrote {out / 'one.flac'}", f"wrote {out / 'two.flac'}", f"wrote {out / 'demo.flac'}"]
    assert _error_lines(captured.err) == [
        f"liquidsky: error: {songs / 'broken.mid'}: truncated track 1",
        f"liquidsky: error: 1 of 4 inputs failed ({songs / 'broken.mid'}); 3 written to {out}",
    ]


def test_all_inputs_good_exit_0_with_a_summary(tmp_path, capsys):
    a, b = _song(tmp_path / "a.mid"), _song(tmp_path / "b.mid")
    out = tmp_path / "new" / "folder"
    assert main(["render", a, b, "-o", os.fspath(out), "--rate", "8000"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == f"rendered 2 inputs to {out}"
    assert sorted(os.listdir(out)) == ["a.wav", "b.wav", "manifest.jsonl"]
    assert captured.err == ""


def test_two_inputs_with_one_name_are_refused_before_anything_is_written(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = _song(tmp_path / "x" / "song.mid"), _song(tmp_path / "y" / "song.mid")
    out = tmp_path / "out"
    assert main(["render", a, b, "-o", os.fspath(out)]) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert "would both be written to" in line
    assert not out.exists()


def test_an_output_file_name_for_several_inputs_is_refused(tmp_path, capsys):
    a, b = _song(tmp_path / "a.mid"), _song(tmp_path / "b.mid")
    assert main(["render", a, b, "-o", os.fspath(tmp_path / "mix.wav")]) == 2
    [line] = _error_lines(capsys.readouterr().err)
    assert line.endswith("several inputs are written to a folder, not to one audio file (give -o a folder name)")
    assert sorted(os.listdir(tmp_path)) == ["a.mid", "b.mid"]


def test_too_long_inputs_fail_alone_with_the_max_duration_message(tmp_path, capsys):
    short, long = _song(tmp_path / "short.mid", 0.3), _song(tmp_path / "long.mid", 90.0)
    out = tmp_path / "out"
    assert main(["render", short, long, "-o", os.fspath(out), "--max-duration", "60", "--rate", "8000",
                 "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert _error_lines(captured.err)[0] == (
        "liquidsky: error: long.mid: 1.5 minutes of audio exceeds --max-duration 1.0 min")
    assert sorted(os.listdir(out)) == ["manifest.jsonl", "short.wav"]


def test_stems_of_several_inputs_go_to_a_folder_each(tmp_path, capsys):
    a, b = _song(tmp_path / "a.mid"), _song(tmp_path / "b.mid")
    assert main(["render", a, b, "-o", os.fspath(tmp_path / "out"), "--stems", os.fspath(tmp_path / "stems"),
                 "--voices", "2", "--rate", "8000", "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "stems")) == ["a", "b"]
    assert sorted(os.listdir(tmp_path / "stems" / "b")) == ["card-1.wav", "card-2.wav"]


def test_parallel_processes_write_the_same_bytes_as_one_after_another(tmp_path, capsys):
    songs = [_song(tmp_path / f"s{i}.mid", 0.2 + 0.2 * i, 55 + i) for i in range(3)]
    for jobs in ("1", "2"):
        assert main(["render", *songs, "demo", "-o", os.fspath(tmp_path / f"out{jobs}"), "--rate", "8000",
                     "--jobs", jobs, "--quiet"]) == 0
    names = sorted(os.listdir(tmp_path / "out1"))
    assert names == ["demo.wav", "manifest.jsonl", "s0.wav", "s1.wav", "s2.wav"]
    assert sorted(os.listdir(tmp_path / "out2")) == names
    for name in names:
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes(), name


def test_a_bad_file_in_a_worker_process_is_reported_and_the_rest_written(tmp_path, capsys):
    good = _song(tmp_path / "good.mid")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    assert main(["render", good, os.fspath(bad), "-o", os.fspath(out), "--jobs", "2", "--rate", "8000",
                 "--quiet"]) == 2
    lines = _error_lines(capsys.readouterr().err)
    assert lines == [f"liquidsky: error: {bad}: empty file",
                     f"liquidsky: error: 1 of 2 inputs failed ({bad}); 1 written to {out}"]
    assert sorted(os.listdir(out)) == ["good.wav", "manifest.jsonl"]


def test_one_input_into_an_existing_folder_is_written_there_by_its_name(tmp_path, capsys):
    song = _song(tmp_path / "tune.mid")
    out = tmp_path / "renders"
    out.mkdir()
    assert main(["render", song, "-o", os.fspath(out), "--rate", "8000", "--format", "flac"]) == 0
    assert sorted(os.listdir(out)) == ["manifest.jsonl", "tune.flac"]
    assert capsys.readouterr().out.splitlines()[-1] == f"rendered 1 input to {out}"


def test_an_empty_folder_among_the_inputs_counts_as_a_failure(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    song = _song(tmp_path / "a.mid")
    out = tmp_path / "out"
    assert main(["render", os.fspath(empty), song, "-o", os.fspath(out), "--rate", "8000", "--quiet"]) == 2
    assert _error_lines(capsys.readouterr().err) == [
        f"liquidsky: error: {empty}: a folder with no .mid or .midi files",
        f"liquidsky: error: 1 of 2 inputs failed ({empty}); 1 written to {out}",
    ]
    assert sorted(os.listdir(out)) == ["a.wav", "manifest.jsonl"]


def test_the_batch_bar_counts_finished_files_and_the_parts_of_those_under_way():
    import io

    from synth.app.cli.reports import BatchProgress as _BatchProgress

    stream = io.StringIO()
    with _BatchProgress(3, enabled=True) as bar:
        bar.bar.fp = stream  # tqdm writes through this
        bar.update(0, 500, 1000)  # half of the first
        bar.update(1, 250, 1000)  # a quarter of the second
        assert bar.bar.n == pytest.approx(0.75)
        bar.finish(0)
        bar.update(1, 2000, 1000)  # an estimate passed counts as done, no more
        assert bar.bar.n == pytest.approx(2.0)
        bar.update(2, 10, 0)  # nothing known yet
        assert bar.bar.n == pytest.approx(2.0)
        assert bar.bar.total == 3
