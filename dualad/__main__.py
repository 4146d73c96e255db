"""``python -m dualad`` runs the ``dualad`` command."""

import sys

from .cli import main

sys.exit(main())
