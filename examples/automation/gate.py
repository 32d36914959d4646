"""Gate a pipeline on a model: `pulumi up` (or preview) of the `gate` project, as an exit code.

    python gate.py [--work-dir DIR] [--stack NAME] [--preview-only] [--json]
                   [--config KEY=VALUE ...]

Selects (or creates) stack NAME (default `dev`) of the Pulumi project in DIR
(default: the `gate` example beside this directory) through the Automation API,
sets each `--config` (keys without a namespace get the project's; keys whose name
contains `Secret` or `Token` are stored as secrets), then runs `pulumi up`, or only
`pulumi preview` with `--preview-only`. It needs the `pulumi` CLI on PATH. The
engine's output streams to stderr; the verdict goes to stdout.

Exit codes:
    0    ready: the run succeeded and every expectation is met
    1    not met: expectations unmet (the run failed on them, or with
         gate:enforce=false the run passed with a warning and exported ready=false)
    2    usage error: bad arguments, no Pulumi project in DIR
    3    error: anything else (credentials, unknown instance, API unreachable,
         program or engine failure, no `pulumi` CLI); also when an expectation
         failed alongside such an error
    130  interrupted

With --json, stdout holds exactly one JSON object:
    {"result": "ready" | "not_met" | "error", "exit_code": N,
     "outputs": {...}, "unmet": ["SUBJECT: NAME: expected X, saw Y", ...],
     "message": "..."}
`outputs` holds the stack outputs after `up` (secret ones as "[secret]"); it is
empty after a preview or a failed run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pulumi.automation as auto

READY, NOT_MET, USAGE, ERROR, INTERRUPTED = 0, 1, 2, 3, 130
DEFAULT_WORK_DIR = Path(__file__).resolve().parent.parent / "gate"
SECRET_WORDS = ("secret", "token")

# What the provider says when expectations are unmet (an error when enforced, a
# warning with enforce=false): "SUBJECT: expectations not met: A; B (after waiting up to T)"
# where each of A, B ... reads "NAME: expected X, saw Y".
MARK = ": expectations not met: "
ITEM = re.compile(r"^[\w.\-]+: expected ")
WAITED = re.compile(r"\s*\(after waiting up to [^)]*\)\s*$")
WILL_WAIT = "up will wait up to"
# What a program says when the engine, having stopped the run for an error it already
# reported, closes the resource monitor under it: a consequence, never the cause.
CONSEQUENCES = ("Resource monitor has terminated, shutting down",)


class UsageError(Exception):
    """Bad command-line arguments."""


@dataclass
class Verdict:
    """The outcome, as printed (text or JSON) and as the exit code."""

    result: str  # "ready" | "not_met" | "error"
    exit_code: int
    message: str
    outputs: dict[str, Any] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)


@dataclass
class Diagnostics:
    """The engine's diagnostic messages of one run, as (severity, message)."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def on_event(self, event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if diag is not None and diag.severity != "debug":
            self.seen.append((diag.severity, diag.message.strip()))

    def messages(self, *severities: str) -> list[str]:
        return [m for s, m in self.seen if m and (not severities or s in severities)]


# -- arguments ------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit; main() reports instead
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gate.py",
        description="Run the gate project's `pulumi up` (or preview) and exit with its verdict.",
        epilog="exit codes: 0 ready, 1 expectations not met, 2 usage error, 3 other error",
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, metavar="DIR")
    parser.add_argument("--stack", default="dev", metavar="NAME")
    parser.add_argument("--preview-only", action="store_true", help="run preview, not up")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help="repeatable"
    )
    return parser


def parse_config(pairs: Iterable[str]) -> dict[str, auto.ConfigValue]:
    """`KEY=VALUE` strings as config values; secret when the key names a secret or token."""
    config: dict[str, auto.ConfigValue] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--config expects KEY=VALUE, got {key or pair!r}")
        name = key.rsplit(":", 1)[-1].lower()
        secret = any(word in name for word in SECRET_WORDS)
        config[key] = auto.ConfigValue(value=value, secret=secret)
    return config


def project_dir(path: Path) -> Path:
    path = path.expanduser().resolve()
    if not any((path / name).is_file() for name in ("Pulumi.yaml", "Pulumi.yml")):
        raise UsageError(f"--work-dir {path}: no Pulumi.yaml there")
    return path


# -- reading the engine's messages ----------------------------------------------------


def find_unmet(messages: Iterable[str]) -> list[str]:
    """Each unmet expectation named in the messages, as "SUBJECT: NAME: expected X, saw Y"."""
    found: list[str] = []
    for message in messages:
        for line in message.splitlines():
            head, mark, tail = line.partition(MARK)
            if not mark:
                continue
            subject = head.rsplit(": ", 1)[-1].strip()  # drop the engine's prefix
            found += [f"{subject}: {item}" for item in split_items(tail)]
    return list(dict.fromkeys(found))


def split_items(text: str) -> list[str]:
    """ "A; B" into [A, B]; a `seen` value may itself hold "; " (a task's errors)."""
    items: list[str] = []
    for part in WAITED.sub("", text.strip()).split("; "):
        if items and not ITEM.match(part):
            items[-1] += "; " + part
        else:
            items.append(part)
    return items


def summary(messages: Iterable[str]) -> str:
    return "\n".join(dict.fromkeys(m.strip() for m in messages if m.strip()))


def error_lines(error: auto.CommandError) -> list[str]:
    """The `error:` lines of a failed command's output, else its last line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return errors or lines[-1:]


# -- verdicts --------------------------------------------------------------------


def judge_up(outputs: auto.OutputMap, diagnostics: Diagnostics) -> Verdict:
    values = {k: "[secret]" if v.secret else v.value for k, v in outputs.items()}
    unmet = find_unmet(diagnostics.messages())
    if values.get("ready") is False and not unmet:
        unmet = [str(item) for item in values.get("unmet") or []]
    if values.get("ready") is False or unmet:
        message = summary(m for m in diagnostics.messages() if MARK in m)
        message = message or "the stack exported ready=false"
        return Verdict("not_met", NOT_MET, message, values, unmet)
    return Verdict("ready", READY, "up succeeded; expectations met", values)


def judge_preview(result: auto.PreviewResult, diagnostics: Diagnostics) -> Verdict:
    unmet = find_unmet(diagnostics.messages())
    if unmet:
        message = summary(m for m in diagnostics.messages() if MARK in m)
        return Verdict("not_met", NOT_MET, message, unmet=unmet)
    counts = result.change_summary.items()
    changes = ", ".join(f"{getattr(op, 'value', op)} {n}" for op, n in counts)
    notes = [m for m in diagnostics.messages() if WILL_WAIT in m]
    return Verdict("ready", READY, summary([f"preview succeeded ({changes})", *notes]))


def causes(messages: Iterable[str]) -> list[str]:
    """The messages that say why a run stopped, without the engine's shutdown echoes."""
    return [m for m in messages if not any(c in m for c in CONSEQUENCES)]


def judge_failure(error: auto.CommandError, diagnostics: Diagnostics) -> Verdict:
    """Not met when every error the engine reported is an unmet expectation."""
    failures = causes(diagnostics.messages("error")) or causes(error_lines(error))
    unmet = find_unmet(failures)
    if unmet and all(MARK in failure for failure in failures):
        return Verdict("not_met", NOT_MET, summary(failures), unmet=unmet)
    return Verdict("error", ERROR, summary(failures) or "pulumi failed", unmet=unmet)


# -- running ---------------------------------------------------------------------


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_gate(
    work_dir: Path, stack_name: str, config: dict[str, auto.ConfigValue], *, preview_only: bool
) -> Verdict:
    diagnostics = Diagnostics()
    streams: dict[str, Any] = {
        "on_output": echo,
        "on_error": echo,
        "on_event": diagnostics.on_event,
        "color": "never",
    }
    try:
        stack = auto.create_or_select_stack(stack_name=stack_name, work_dir=str(work_dir))
        if config:
            stack.set_all_config(config)
        if preview_only:
            return judge_preview(stack.preview(**streams), diagnostics)
        return judge_up(stack.up(**streams).outputs, diagnostics)
    except auto.CommandError as error:
        return judge_failure(error, diagnostics)
    except (OSError, auto.InvalidVersionError) as error:  # no `pulumi` on PATH, or too old
        return Verdict("error", ERROR, f"cannot run the Pulumi CLI: {error}")


def report(verdict: Verdict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(asdict(verdict), sort_keys=True, default=str))
        return
    if verdict.result == "error":
        print(f"gate: error: {verdict.message}", file=sys.stderr)
        return
    print(f"{verdict.result}: {verdict.message}")
    for item in verdict.unmet:
        print(f"  unmet: {item}")
    for key, value in sorted(verdict.outputs.items()):
        print(f"  {key}: {json.dumps(value, default=str)}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        config = parse_config(args.config)
        work_dir = project_dir(args.work_dir)
    except UsageError as error:
        if "--json" in argv:
            report(Verdict("error", USAGE, str(error)), as_json=True)
        else:
            parser.print_usage(sys.stderr)
            print(f"gate.py: error: {error}", file=sys.stderr)
        return USAGE
    try:
        verdict = run_gate(work_dir, args.stack, config, preview_only=args.preview_only)
    except KeyboardInterrupt:
        verdict = Verdict("error", INTERRUPTED, "interrupted")
    report(verdict, args.json)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
