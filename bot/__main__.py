"""`python -m bot` is the `weeklybot` command."""

import sys

from bot.cli import main

sys.exit(main())
