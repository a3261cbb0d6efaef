"""The C render kernel (synth/_cards.c) as an extension module; everything else is in pyproject.toml.

It needs a C compiler and the Python headers, nothing more: the arrays arrive through the buffer
protocol, so numpy is not needed to build it.
"""

import sys

from setuptools import Extension, setup

compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-pthread"]
link_args = [] if sys.platform == "win32" else ["-pthread"]

extensions = [Extension("synth._cards", ["synth/_cards.c"], extra_compile_args=compile_args,
                        extra_link_args=link_args)]
# Live playback's ring and audio callback (synth/_audio.c): C11 atomics, pthreads and dlopen (PortAudio is
# loaded at run time, so building it needs no PortAudio either).
if sys.platform != "win32":
    extensions.append(Extension("synth._audio", ["synth/_audio.c"], extra_compile_args=["-O2", "-std=c11", "-pthread"],
                                extra_link_args=["-pthread", "-ldl"], define_macros=[("_GNU_SOURCE", None)]))

setup(ext_modules=extensions)
