"""The `liquidsky` command line (main.py), one module per command group, options.py for what they share."""
