"""Mode: the piece's degrees moved to a darker mode (Phrygian, Locrian, minor, harmonic minor), and the
melody inverted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from scores.score import Key, Note, Score
from scores.theory import degree_map
from scores.transforms.common import FIXED_ROLES, PITCHED_ROLES, _fold, _key_finder, _targets

# --- mode ---------------------------------------------------------------------------------------------

# Degrees are semitones above the local tonic. Each map sends the notes of the major and minor scales (with
# minor's raised sixth and seventh) onto the target scale and leaves chromatic notes where they are.
_PHRYGIAN = degree_map("phrygian")  # {2: 1, 4: 3, 9: 8, 11: 10}: scale 0 1 3 5 7 8 10
_LOCRIAN = degree_map("locrian")  # {2: 1, 4: 3, 7: 6, 9: 8, 11: 10}: scale 0 1 3 5 6 8 10
_NATURAL_MINOR = degree_map("minor")  # {4: 3, 9: 8, 11: 10}: scale 0 2 3 5 7 8 10, applied where the key is major
_HARMONIC_MINOR = {9: 8, 10: 11}  # the augmented second between the lowered sixth and the leading tone


def _remap_degrees(score: Score, mapping: dict[int, int], roles: Iterable[str], *, only_mode: str | None = None,
                   new_mode: str | None = None) -> Score:
    names = _targets(score, roles) - _targets(score, FIXED_ROLES)  # a ground or an ostinato is never re-pitched
    key_at = _key_finder(score)
    notes = []
    for n in score.notes:
        key = key_at(n.start)
        if n.part in names and (only_mode is None or key.mode == only_mode):
            degree = (n.pitch - key.tonic_pc) % 12
            n = Note(n.start, n.duration, _fold(n.pitch + mapping.get(degree, degree) - degree), n.velocity, n.part)
        notes.append(n)
    keys = score.keys
    if new_mode is not None:
        keys = tuple(Key(k.tick, k.tonic_pc, new_mode) if only_mode in (None, k.mode) else k for k in keys)
    return score.with_notes(notes).replace(keys=keys)


def phrygian(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """Every note of the chosen parts onto the Phrygian scale of its local tonic: over D, E becomes E-flat.

    Parts of role "ground" (the Sonnerie's bells) and "ostinato" (the Trionfo's pianos) are never
    re-pitched, by this or any mode change: the ground is the piece's one fixed figure, an ostinato the
    figure a section is built on, and the music above them takes the new mode.

    The second degree is lowered in every key; in a major key the third, sixth and seventh too, and in a
    minor key its raised sixth and seventh, so that the whole scale is Phrygian. Notes outside the key stay;
    moved notes fold by octaves into 0-127. The key map's modes become minor (the nearest signature).
    """
    return _remap_degrees(score, _PHRYGIAN, roles, new_mode="minor")


def locrian(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """As phrygian, and the fifth lowered too: over D, A becomes A-flat (scale 0 1 3 5 6 8 10)."""
    return _remap_degrees(score, _LOCRIAN, roles, new_mode="minor")


def major_to_minor(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """Major-key passages into the natural minor on the same tonic (third, sixth, seventh lowered).

    Passages already in a minor key are left as they are; the key map's major keys become minor.
    """
    return _remap_degrees(score, _NATURAL_MINOR, roles, only_mode="major", new_mode="minor")


def harmonic_minor(score: Score, *, roles: Sequence[str] = PITCHED_ROLES) -> Score:
    """The harmonic-minor colour: the sixth degree lowered and the seventh raised to a leading tone.

    In a minor key this makes the augmented second of harmonic minor (over D: B-flat to C-sharp); in a
    major key only the sixth is lowered (harmonic major), which gives the same step.
    """
    return _remap_degrees(score, _HARMONIC_MINOR, roles)


def invert(score: Score, *, role: str = "melody") -> Score:
    """A role's notes inverted about the tonic: each interval above the tonic becomes the same below.

    The axis is the local tonic in the octave nearest the role's mean pitch, so the line keeps its register;
    notes pushed outside 0-127 fold by octaves. Other parts are untouched.
    """
    names = _targets(score, (role,))
    chosen = [n for n in score.notes if n.part in names]
    if not chosen:
        return score
    centre = sum(n.pitch for n in chosen) / len(chosen)
    key_at = _key_finder(score)
    notes = []
    for n in score.notes:
        if n.part in names:
            tonic = key_at(n.start).tonic_pc
            axis = tonic + 12 * round((centre - tonic) / 12)
            n = Note(n.start, n.duration, _fold(2 * axis - n.pitch), n.velocity, n.part)
        notes.append(n)
    return score.with_notes(notes)
