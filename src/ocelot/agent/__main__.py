"""``python -m ocelot.agent``: the same as ``ocelot agent``."""

import sys

from ocelot.agent.command import main

sys.exit(main())
