"""`python -m web` runs the `supervision` command."""

from web.cli import main

main()
