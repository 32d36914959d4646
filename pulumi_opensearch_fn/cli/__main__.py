"""`python -m pulumi_opensearch_fn.cli`, the same as the `opensearch-fn` script."""

import sys

try:
    from . import main
except KeyboardInterrupt:  # Ctrl-C while starting up: no traceback either
    sys.exit(130)

sys.exit(main())
