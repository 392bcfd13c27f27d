"""`python -m console` runs the `quorum` command, for environments without the script."""

from console.cli.main import entry

entry()
