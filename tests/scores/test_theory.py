"""Music theory in one place: spelling, names, scales and modes, chords, keys from notes."""

import ast
from pathlib import Path

import pytest

from scores import theory
from scores.theory import TheoryError, chord, degree_map, key_name, parse_key_name, scale, spell, spelled_scale

SCORES = Path(theory.__file__).parent


def test_a_note_name_is_spelled_with_its_letter_and_pitch_class():
    assert spell("Eb") == theory.Tone(2, 3)
    assert spell("Cb").pc == 11 and spell("Cb").letter == 0
    assert spell("F##").pc == 7
    assert spell("Eb").name == "Eb" and spell("B#").name == "B#"


@pytest.mark.parametrize("bad", ["", "H", "C+", "#"])
def test_a_name_that_is_no_note_is_refused(bad):
    with pytest.raises(TheoryError):
        spell(bad)


def test_keys_are_named_as_midi_key_signatures_name_them():
    assert key_name(2, "minor") == "Dm" and key_name(3, "major") == "Eb" and key_name(8, "minor") == "G#m"
    assert parse_key_name("F#m") == (6, "minor") and parse_key_name("Bb") == (10, "major")


def test_a_scale_lists_its_pitch_classes_from_the_tonic():
    assert scale(2, "minor") == (2, 4, 5, 7, 9, 10, 0)
    assert scale(4, "phrygian") == (4, 5, 7, 9, 11, 0, 2)
    assert spelled_scale("Bb") == {6: 10, 0: 0, 1: 2, 2: 3, 3: 5, 4: 7, 5: 9}


def test_a_mode_change_moves_each_degree_to_the_same_step_of_the_new_mode():
    assert degree_map("phrygian") == {2: 1, 4: 3, 9: 8, 11: 10}
    assert degree_map("locrian") == {2: 1, 4: 3, 7: 6, 9: 8, 11: 10}
    assert degree_map("minor") == {4: 3, 9: 8, 11: 10}
    assert degree_map("major") == {3: 4, 8: 9, 10: 11}


def test_a_chord_symbol_reads_its_spelled_tones_and_bass():
    c = chord("G#dim7/B")
    assert (c.root_pc, c.pcs, c.bass_pc, c.third) == (8, (8, 11, 2, 5), 11, 11)
    assert [t.name for t in chord("C7").tones] == ["C", "E", "G", "Bb"]
    assert [t.name for t in chord("Bbsus4").tones] == ["Bb", "Eb", "F"]
    assert chord("Gm6/Bb").pc_set == {7, 10, 2, 4}
    with pytest.raises(TheoryError):
        chord("Cxyz")


def test_a_key_is_found_from_the_durations_of_its_pitch_classes():
    d_minor = [0.0] * 12
    for pc, weight in ((2, 4), (5, 2), (9, 3), (4, 1), (7, 1), (1, 1)):
        d_minor[pc] = weight
    assert theory.best_key(d_minor) == (2, "minor")
    assert theory.best_key([0.0] * 12) == (0, "major")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_score_model_does_not_import_the_analysis_that_imports_it():
    assert "scores.analysis" not in _imports(SCORES / "score.py")
    assert "scores.score" in _imports(SCORES / "analysis.py")


@pytest.mark.parametrize("module", ["score", "notation", "sonnerie", "laurel", "trionfo", "variation",
                                    *(f"transforms/{p.stem}" for p in sorted((SCORES / "transforms").glob("*.py")))])
def test_no_module_keeps_a_pitch_class_table_or_a_chord_of_its_own(module):
    tree = ast.parse((SCORES / f"{module}.py").read_text())
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    assert not classes & {"Chord", "Tone"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and len(node.keys) >= 7:
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            assert not keys >= {"C", "D", "E", "F", "G", "A", "B"}, f"{module} spells notes itself"
