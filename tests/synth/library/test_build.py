"""Growing the factory voices from seeds/voices.toml, and the committed voice files kept up to date."""

import json
from pathlib import Path

import pytest

from synth.library import build
from synth.library.builtin import builtin_voices
from synth.library.recipes import FLUIDR3_PATH, RecipeError
from synth.voicefile import load_voice, voice_to_bytes

pytestmark = [
    pytest.mark.skipif(not build.RECIPES_PATH.is_file(), reason="the recipes are in the source tree only"),
    pytest.mark.skipif(build.tomllib is None, reason="reading TOML needs Python 3.11 or tomli"),
    # the recorded voices are grown from Debian's fluid-soundfont-gm
    pytest.mark.skipif(not Path(FLUIDR3_PATH).is_file(), reason="needs Debian's fluid-soundfont-gm"),
]


@pytest.fixture(scope="module")
def grown():
    return build.build_voices()


def test_committed_voice_files_are_exactly_what_the_recipes_make(grown):
    # Fails when a recipe or the code that grows voices changed without `python -m synth.library.build`.
    assert build.stale_voices(grown) == []
    for name, voice in builtin_voices().items():
        assert voice_to_bytes(voice) == voice_to_bytes(grown[name])


def test_the_library_loads_in_recipe_order(grown):
    _, recipes = build.load_recipes()
    assert list(builtin_voices()) == [r["name"] for r in recipes] == list(grown)


def test_write_factory_writes_each_voice_and_the_index_and_drops_old_files(grown, tmp_path):
    (tmp_path / "retired.cmv").write_bytes(b"old")
    some = dict(list(grown.items())[:3])
    paths = build.write_factory(some, tmp_path)
    assert sorted(p.name for p in paths) == sorted([*(f"{n}.cmv" for n in some), "index.json"])
    assert not (tmp_path / "retired.cmv").exists()
    assert json.loads((tmp_path / "index.json").read_text())["voices"] == list(some)
    first = next(iter(some))
    assert voice_to_bytes(load_voice(tmp_path / f"{first}.cmv")) == voice_to_bytes(some[first])
    assert build.stale_voices(some, tmp_path) == []
    (tmp_path / f"{first}.cmv").write_bytes(b"changed")
    assert build.stale_voices(some, tmp_path) == [first]


def test_check_reports_stale_files_and_fails(tmp_path, capsys):
    assert build.main(["--check"]) == 0
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "stale: piano" in out and "stale: index.json" in out


def test_recipe_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[voice]\nname = 'x'\n")
    with pytest.raises(RecipeError, match="bad.toml: not valid TOML"):
        build.load_recipes(bad)
    twice = tmp_path / "twice.toml"
    twice.write_text("[[voice]]\nname = 'a'\n[[voice]]\nname = 'a'\n")
    with pytest.raises(RecipeError, match="twice.toml: voices named twice: a"):
        build.load_recipes(twice)
    with pytest.raises(RecipeError, match="missing.toml"):
        build.load_recipes(tmp_path / "missing.toml")
