"""Grow the factory voices from their recipes: `python -m synth.library.build` (rewrites synth/library/factory).

The recipes live in seeds/voices.toml at the top of the source tree; they are not installed with
the package. The voice files they make (one .cmv per voice, and index.json listing them in recipe
order) are committed and installed, and are what synth.library.builtin loads at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synth.library.builtin import INDEX_NAME
from synth.library.recipes import RecipeError, voice_from_recipe
from synth.voice import Voice
from synth.voicefile import SUFFIX, save_voice, voice_to_bytes

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the tomli package reads TOML the same way, when installed
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

RECIPES_PATH = Path(__file__).resolve().parents[2] / "seeds" / "voices.toml"
FACTORY_DIR = Path(__file__).resolve().parent / "factory"


def load_recipes(path: str | Path | None = None) -> tuple[dict, list[dict]]:
    """(defaults, recipes) from a recipe file (default: RECIPES_PATH, seeds/voices.toml)."""
    path = Path(RECIPES_PATH if path is None else path)
    if tomllib is None:
        raise RecipeError(f"{path}: reading recipes needs Python 3.11 or the tomli package")
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise RecipeError(f"{path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{path}: not valid TOML ({e})") from None
    recipes = data.get("voice", [])
    names = [r.get("name") for r in recipes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RecipeError(f"{path}: voices named twice: {', '.join(map(str, duplicates))}")
    return data.get("defaults", {}), recipes


def build_voices(path: str | Path | None = None) -> dict[str, Voice]:
    """Every voice of a recipe file, by name, in recipe order."""
    defaults, recipes = load_recipes(path)
    return {r["name"]: voice_from_recipe(r, defaults) for r in recipes}


def write_factory(voices: dict[str, Voice], directory: str | Path = FACTORY_DIR) -> list[Path]:
    """Write NAME.cmv for each voice and the index; remove voice files no recipe makes any more."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [save_voice(v, directory / f"{name}{SUFFIX}") for name, v in voices.items()]
    for old in directory.glob(f"*{SUFFIX}"):
        if old.stem not in voices:
            old.unlink()
    index = directory / INDEX_NAME
    index.write_text(json.dumps({"voices": list(voices)}, indent=1) + "\n", encoding="utf-8")
    return [*written, index]


def stale_voices(voices: dict[str, Voice], directory: str | Path = FACTORY_DIR) -> list[str]:
    """Names whose committed voice file differs from what the recipes make now (or is missing/extra)."""
    directory = Path(directory)
    stale = []
    for name, voice in voices.items():
        path = directory / f"{name}{SUFFIX}"
        if not path.is_file() or path.read_bytes() != voice_to_bytes(voice):
            stale.append(name)
    present = {p.stem for p in directory.glob(f"*{SUFFIX}")}
    stale.extend(sorted(present - set(voices)))
    index = directory / INDEX_NAME
    if not index.is_file() or json.loads(index.read_text(encoding="utf-8")).get("voices") != list(voices):
        stale.append(INDEX_NAME)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.library.build", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=str(RECIPES_PATH), help="recipe file (default: seeds/voices.toml)")
    parser.add_argument("--out", default=str(FACTORY_DIR), help="where the voice files go")
    parser.add_argument("--check", action="store_true", help="only report voice files that are stale (exit 1)")
    args = parser.parse_args(argv)
    try:
        voices = build_voices(args.recipes)
    except RecipeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.check:
        stale = stale_voices(voices, args.out)
        for name in stale:
            print(f"stale: {name}")
        return 1 if stale else 0
    for path in write_factory(voices, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
