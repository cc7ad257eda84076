"""``python -m cardsettle`` runs the CLI."""

from cardsettle.cli import main

main()
