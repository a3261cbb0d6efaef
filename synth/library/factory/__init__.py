"""The factory voice files (.cmv), grown from seeds/voices.toml by synth.library.build."""
