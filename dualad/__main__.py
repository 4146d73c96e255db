"""``python -m dualad`` runs the ``dualad`` command."""

import sys

from .cli.main import main

sys.exit(main())
