"""The admin command line: one module per command group, registered in ``cli/app.py``."""
