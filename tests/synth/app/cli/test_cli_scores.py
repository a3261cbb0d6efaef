"""liquidsky scores, arrange, and --style on the commands that take a piece."""

import json

import mido
import pytest

from scores import CATALOGUE
from synth.app.cli.main import main


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_scores_lists_every_score_with_its_title_and_every_style(capsys):
    from scores.styles import style_names

    status, out, _ = run(capsys, "scores", "--json")
    assert status == 0
    listing = json.loads(out)
    assert [s["name"] for s in listing["scores"]] == list(CATALOGUE)
    assert [s["title"] for s in listing["scores"]] == [i.title for i in CATALOGUE.values()]
    assert [s["name"] for s in listing["styles"]] == style_names()
    assert {"plain", "ominous", "dissonant", "march"} <= set(style_names())
    sonnerie = listing["scores"][0]
    assert 450 <= sonnerie["duration_s"] <= 540
    status, text, _ = run(capsys, "scores")
    assert "Sonnerie (after Marais)" in text and "ominous" in text


def test_arrange_writes_a_midi_file_in_the_style(capsys, tmp_path):
    out = tmp_path / "laurel-march.mid"
    status, text, err = run(capsys, "arrange", "laurel", "--style", "march", "-o", str(out))
    assert (status, err) == (0, "")
    assert text.startswith(f"wrote {out}: Laurel Waltz (after Heinrich)")
    midi = mido.MidiFile(out)
    metres = {(m.numerator, m.denominator) for t in midi.tracks for m in t if m.type == "time_signature"}
    assert metres and all(num % 2 == 0 for num, _ in metres)  # duple
    assert [p.name for p in tmp_path.iterdir()] == ["laurel-march.mid"]


def test_the_same_seed_arranges_the_same_bytes_and_another_seed_differs(capsys, tmp_path):
    paths = [tmp_path / f"{i}.mid" for i in range(3)]
    for path, seed in zip(paths, ("7", "7", "8"), strict=True):
        assert run(capsys, "arrange", "sonnerie", "--style", "ominous", "--seed", seed, "-o", str(path))[0] == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_arrange_takes_any_midi_file(capsys, tmp_path):
    out = tmp_path / "demo-dissonant.mid"
    status, _, err = run(capsys, "arrange", "demo", "--style", "dissonant", "-o", str(out))
    assert (status, err) == (0, "")
    plain = sum(1 for t in mido.MidiFile(CATALOGUE["laurel"].midi_path).tracks for m in t if m.type == "note_on")
    assert plain > 0
    notes = sum(1 for t in mido.MidiFile(out).tracks for m in t if m.type == "note_on" and m.velocity)
    from synth.demo import demo_midi

    original = sum(1 for t in demo_midi().tracks for m in t if m.type == "note_on" and m.velocity)
    assert notes > original  # shadows and smears add notes


def test_an_unknown_style_is_one_line_naming_the_styles(capsys, tmp_path):
    out = tmp_path / "x.mid"
    status, _, err = run(capsys, "arrange", "sonnerie", "--style", "cheerful", "-o", str(out))
    assert status == 2
    assert err.startswith("liquidsky: error: unknown style 'cheerful' (styles: plain, ")
    assert err.count("\n") == 1
    assert not out.exists()


def test_an_unknown_score_is_one_line(capsys, tmp_path):
    status, _, err = run(capsys, "arrange", "bolero", "--style", "march", "-o", str(tmp_path / "x.mid"))
    assert status == 2
    assert "no such file, built-in piece or score: 'bolero'" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--tempo-scale", "0"], ["--tempo-scale", "fast"], ["--seed", "-1"]])
def test_bad_style_options_are_refused_before_anything_is_read(capsys, tmp_path, argv):
    status, _, err = run(capsys, "arrange", "sonnerie", *argv, "-o", str(tmp_path / "x.mid"))
    assert status == 2 and err.count("\n") == 1


def test_arrange_refuses_an_audio_output_name(capsys, tmp_path):
    status, _, err = run(capsys, "arrange", "sonnerie", "-o", str(tmp_path / "x.wav"))
    assert status == 2 and "OUT.mid" in err


def test_a_failed_arrangement_leaves_the_users_file_alone(capsys, tmp_path):
    out = tmp_path / "keep.mid"
    out.write_bytes(b"the user's own")
    assert run(capsys, "arrange", "sonnerie", "--style", "nope", "-o", str(out))[0] == 2
    assert out.read_bytes() == b"the user's own"


def test_info_describes_a_score_in_a_style(capsys):
    status, out, _ = run(capsys, "info", "trionfo", "--json")
    plain = json.loads(out)
    assert status == 0 and plain["source"] == "trionfo"
    assert plain["peak_polyphony"] <= 8 and plain["notes_stolen"] == 0
    status, out, _ = run(capsys, "info", "trionfo", "--style", "ominous", "--tempo-scale", "0.5", "--json")
    slow = json.loads(out)
    assert slow["source"] == "trionfo (ominous, tempo x0.5)"
    assert slow["duration_s"] > plain["duration_s"] * 2


def test_render_takes_a_score_name_and_a_style(capsys, tmp_path):
    out = tmp_path / "laurel.wav"
    status, text, err = run(capsys, "render", "laurel", "--style", "ominous", "--max-duration", "1000",
                            "-o", str(out), "-q")
    assert (status, err) == (0, "")
    import soundfile as sf

    info = sf.info(out)
    plain_s = mido.MidiFile(CATALOGUE["laurel"].midi_path).length
    assert info.duration > plain_s * 1.2  # the ominous style is slower


def test_a_batch_renders_every_score_in_the_style(capsys, tmp_path):
    import soundfile as sf

    out = tmp_path / "out"
    status, _, err = run(capsys, "render", "laurel", "trionfo", "-o", str(out), "--style", "march",
                         "--tempo-scale", "8", "--jobs", "2", "-q")
    assert (status, err) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == ["laurel.wav", "manifest.jsonl", "trionfo.wav"]
    # the march turns each 3/4 bar of the waltz into a 2/4 bar: two thirds of the time, then 8x faster
    plain_s = mido.MidiFile(CATALOGUE["laurel"].midi_path).length
    assert sf.info(out / "laurel.wav").duration == pytest.approx(plain_s * 2 / 3 / 8, abs=2.0)
