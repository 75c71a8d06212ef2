"""``python -m rustmemodb.cli`` runs the same launcher as the ``rustmemodb`` script."""
import sys

from .main import main

sys.exit(main())
