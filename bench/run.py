"""``python bench/run.py [options]``: the same as ``python -m bench.agents``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.agents import main

if __name__ == "__main__":
    sys.exit(main())
