"""liquidsky studio: the CMI's pages in a browser, served from this machine (pip install ".[studio]").

app.py the routes; session.py what is being edited (the voice, the registers, the song); audio.py
the sound, streamed to the page or played on the sound card; security.py the token, the origin
checks and the names the browser may send. static/ holds the pages: plain ES modules, no build step.
"""
