"""The argument parser of `opensearch-fn`. Imports nothing heavy: --help stays fast."""

from __future__ import annotations

import argparse
from typing import Any

from ..api.validation import INSTANCE_STATUSES, OUTPUT_LEVELS, TASK_STATUSES
from . import args as t
from .exit_codes import describe

PROG = "opensearch-fn"

DESCRIPTION = """\
Read Alibaba Cloud OpenSearch function instances (trained models) and their
training tasks, and gate deployments on them. Read-only: nothing is ever changed.
"""

EPILOG = f"""\
credentials:
  Taken from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  ALIBABA_CLOUD_SECURITY_TOKEN, or the ALICLOUD_* names), a profile (--profile or
  ALIBABA_CLOUD_PROFILE), or the Alibaba Cloud default credentials chain; never from a
  command-line argument. --profile wins: access keys in the environment are then ignored.
  Region: --region, ALIBABA_CLOUD_REGION_ID or ALICLOUD_REGION. Endpoint: --endpoint or
  OPENSEARCH_FN_ENDPOINT (an endpoint given on the command line beats a region from the
  environment, and --region beats an endpoint from the environment).

exit codes:
{describe()}
  With several instances, the highest code that applies is returned.
"""

CHECK_EPILOG = """\
instances file:
  One instance a line, `app/function/instance` (segments percent-encoded, as resource ids)
  or `app function instance`; blank lines and `#` comments are ignored; `-` reads stdin.

examples:
  opensearch-fn check my_app ctr ctr_test --status available --task-status success
  opensearch-fn check --instances-file models.txt --min-generation 3 --max-age 36h \\
      --metric 'recall>=90' --no-task-errors --wait --timeout 30m --json
  opensearch-fn check my_app ctr ctr_test --max-regression 'auc 0.01' \\
      --max-regression 'loss 5% lower'
"""


class _LazyVersion(argparse.Action):
    """--version, reading the installed distribution's version only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", 0)
        kwargs.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("pulumi-opensearch-fn")
        except PackageNotFoundError:
            text = "unknown"
        print(f"{PROG} {text}")  # stdout, as argparse's own version action does
        parser.exit()


def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Options accepted before or after the command. On subcommands their default is
    SUPPRESS, so a value given before the command is not reset by the subparser."""
    default: Any = None if top else argparse.SUPPRESS
    flag: Any = False if top else argparse.SUPPRESS
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--region",
        default=default,
        metavar="REGION",
        help="region id, e.g. cn-hangzhou (public endpoint of that region)",
    )
    group.add_argument(
        "--endpoint",
        default=default,
        metavar="URL",
        help="API endpoint URL (e.g. the emulator's http://127.0.0.1:PORT)",
    )
    group.add_argument(
        "--profile",
        default=default,
        metavar="NAME",
        help="credentials profile (Alibaba Cloud CLI config or credentials file)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=flag,
        help="one JSON document on stdout, for pipelines",
    )
    group.add_argument("--debug", action="store_true", default=flag,
                       help="log each request (action, path, status, request id, latency)"
                       " to stderr")  # fmt: skip


def _identity(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("app", metavar="APP", type=t.name_of("app_group"), help="app group")
    parser.add_argument("function", metavar="FUNCTION", type=t.name_of("function_name"),
                        help="function name, e.g. ctr")  # fmt: skip
    parser.add_argument("instance", metavar="INSTANCE", type=t.name_of("instance_name"),
                        help="function instance name")  # fmt: skip


def build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_LazyVersion, help="print the version and exit")
    _common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str, epilog: str = EPILOG) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.set_defaults(subparser=sub)
        return sub

    sub = command("instance", "show one function instance (GetFunctionInstance)")
    _identity(sub)
    sub.add_argument("--output", choices=OUTPUT_LEVELS, default="normal",
                     help="how much the service returns (default: normal)")  # fmt: skip
    _common(sub, top=False)

    sub = command("tasks", "list an instance's training tasks, newest first (ListFunctionTasks)")
    _identity(sub)
    sub.add_argument("--status", choices=TASK_STATUSES, help="only tasks with this status")
    sub.add_argument(
        "--start-time",
        type=t.timestamp("start time"),
        metavar="TIME",
        help="only tasks started after TIME (ISO 8601, naive = UTC, or epoch ms)",
    )
    sub.add_argument(
        "--end-time",
        type=t.timestamp("end time"),
        metavar="TIME",
        help="only tasks that ended before TIME",
    )
    sub.add_argument(
        "--limit",
        type=t.count("limit"),
        metavar="N",
        help="at most N tasks (default: all, every page is read)",
    )
    sub.add_argument("--page-size", type=t.count("page size", 1, 100), default=50, metavar="N",
                     help="tasks per request, 1-100 (default: 50)")  # fmt: skip
    _common(sub, top=False)

    sub = command("task", "show one training task: a generation or the latest")
    _identity(sub)
    sub.add_argument("generation", metavar="GENERATION|latest", type=t.generation,
                     help="generation number, or `latest` for the newest task")  # fmt: skip
    _common(sub, top=False)

    sub = command(
        "check",
        "check expectations on one or many instances, optionally waiting until they hold",
        CHECK_EPILOG + "\n" + EPILOG,
    )
    sub.add_argument("target", nargs="*", metavar="APP FUNCTION INSTANCE",
                     help="an instance; for several, repeat the three"
                     " (or use --instances-file)")  # fmt: skip
    sub.add_argument("--instances-file", "-f", metavar="FILE",
                     help="instances to check, one a line; `-` for stdin")  # fmt: skip
    expect = sub.add_argument_group("expectations (all must hold)")
    expect.add_argument("--status", choices=INSTANCE_STATUSES, help="the instance's status")
    expect.add_argument("--task-status", choices=TASK_STATUSES,
                        help="the latest training task's status")  # fmt: skip
    expect.add_argument(
        "--min-generation",
        type=t.count("min generation", 0),
        metavar="N",
        help="the latest successful task's generation is at least N",
    )
    expect.add_argument(
        "--max-age",
        type=t.duration("max age"),
        metavar="DURATION",
        help="the latest successful task ended at most this long ago (36h, 2d)",
    )
    expect.add_argument("--metric", type=t.metric, action="append", metavar="'NAME OP VALUE'",
                        help="threshold on that task's extendInfo metrics, e.g. 'recall>=90'"
                        " (repeatable)")  # fmt: skip
    expect.add_argument("--no-task-errors", action="store_true",
                        help="that task reports no errors")  # fmt: skip
    expect.add_argument(
        "--max-regression",
        type=t.regression,
        action="append",
        metavar="'METRIC AMOUNT[%] [lower]'",
        help="that task's metric fell at most AMOUNT (or AMOUNT%% of it) from the previous"
        " successful generation, e.g. 'auc 0.01', 'recall 2%%'; `lower`: lower is better,"
        " e.g. 'loss 5%% lower' (repeatable)",
    )
    waiting = sub.add_argument_group("waiting")
    waiting.add_argument(
        "--wait", action="store_true", help="poll until met, the latest task failed, or the timeout"
    )
    waiting.add_argument(
        "--timeout",
        type=t.duration("timeout"),
        metavar="DURATION",
        help="give up waiting after this (default: 10m, at most 6h)",
    )
    waiting.add_argument(
        "--interval",
        type=t.duration("interval"),
        metavar="DURATION",
        help="time between reads (default: 10s)",
    )
    sub.add_argument(
        "--concurrency",
        type=t.count("concurrency", 1, t.MAX_CONCURRENCY),
        default=t.DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once, 1-{t.MAX_CONCURRENCY}"
        f" (default: {t.DEFAULT_CONCURRENCY})",
    )
    _common(sub, top=False)

    # Its options belong to the emulator (added lazily when it runs); see main.
    emulator = commands.add_parser(
        "emulator", add_help=False, help="serve the local OpenSearch function API emulator"
        " (see `opensearch-fn emulator --help`)",
    )  # fmt: skip
    emulator.set_defaults(subparser=emulator)
    return parser
