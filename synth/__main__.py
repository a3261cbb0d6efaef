"""`python -m synth`: the liquidsky command line."""

import sys

from synth.app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
