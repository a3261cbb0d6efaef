"""The C render kernel (synth/_cards.c) as an extension module; everything else is in pyproject.toml.

It needs a C compiler and the Python headers, nothing more: the arrays arrive through the buffer
protocol, so numpy is not needed to build it.
"""

import sys

from setuptools import Extension, setup

compile_args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-pthread"]
link_args = [] if sys.platform == "win32" else ["-pthread"]

setup(ext_modules=[Extension("synth._cards", ["synth/_cards.c"], extra_compile_args=compile_args,
                             extra_link_args=link_args)])
