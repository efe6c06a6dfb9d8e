"""One module per command-line command, each exporting `register(subparsers)`; `common.py` holds what
they share. Listed in `bot.__main__.COMMANDS`."""
