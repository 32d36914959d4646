"""`python -m pulumi_opensearch_fn.cli`, the same as the `opensearch-fn` script."""

import sys

from . import main

sys.exit(main())
