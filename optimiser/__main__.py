"""``python -m optimiser`` is the ``dispatch`` command."""

import sys

from .cli import main

sys.exit(main())
