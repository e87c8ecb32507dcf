"""``python -m ocelot.cli``."""

import sys

from ocelot.cli.main import main

sys.exit(main())
