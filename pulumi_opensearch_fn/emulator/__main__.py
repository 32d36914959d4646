"""``python -m pulumi_opensearch_fn.emulator``: the same as ``opensearch-fn emulator``."""

import argparse
import sys

from .main import add_arguments, run

parser = argparse.ArgumentParser(
    prog="python -m pulumi_opensearch_fn.emulator",
    description="Serve a local OpenSearch function API emulator.",
)
add_arguments(parser)
sys.exit(run(parser.parse_args()))
