"""The committed MIDI files of the scores are what their sources build today."""

import pytest

from scores import CATALOGUE
from scores.build import main, midi_bytes


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_committed_midi_file_is_not_stale(name):
    committed = CATALOGUE[name].midi_path.read_bytes()
    assert midi_bytes(name) == committed, f"run 'python -m scores.build {name}' and commit scores/{name}.mid"


def test_the_build_command_writes_each_file_whole(tmp_path, monkeypatch, capsys):
    import scores

    monkeypatch.setattr(scores, "HERE", tmp_path)
    assert main(["laurel"]) == 0
    written = tmp_path / "laurel.mid"
    assert written.read_bytes() == midi_bytes("laurel")
    assert capsys.readouterr().out == f"wrote laurel.mid: {written.stat().st_size:,} bytes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["laurel.mid"]
