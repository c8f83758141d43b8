"""``python -m gradgen``: the command line."""

import sys

from gradgen.cli.commands import main

sys.exit(main())
