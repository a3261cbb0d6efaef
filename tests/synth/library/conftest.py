"""The recipes are in the source tree, not in the installed package: the build's tests read this checkout's."""

from pathlib import Path

from synth.library import build

CHECKOUT_RECIPES = Path(__file__).resolve().parents[3] / "seeds" / "voices.toml"

if not build.RECIPES_PATH.is_file() and CHECKOUT_RECIPES.is_file():
    # the package installed (as CI installs it), its committed voices compared with this checkout's recipes
    build.RECIPES_PATH = CHECKOUT_RECIPES
