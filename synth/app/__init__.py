"""The application: where the engine (the rest of `synth`), the scores and the fronts meet.

A piece to play is a *source* (sources.py: a MIDI file, a built-in piece, a score in a style, a Page R
song), played by a *voice set* (sources.piece_voice_set over synth.gm and the library), rendered by a
*job* (jobs.py for one render's settings, batch.py and cluster.py for collections, manifest.py and
outputs.py for what a collection leaves on disk). api.py is the Python face of one render. The fronts,
cli/ (the command line) and studio/ (the browser), hold no logic of their own beyond reading their
user's input and showing the result: both build on these modules.
"""
