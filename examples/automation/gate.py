"""Gate a pipeline on a model: `pulumi up` (or preview) of the `gate` project, as an exit code.

    python gate.py [--work-dir DIR] [--stack NAME] [--preview-only | --drift] [--json]
                   [--config KEY=VALUE ...]

Selects (or creates) stack NAME (default `dev`) of the Pulumi project in DIR
(default: the `gate` example beside this directory) through the Automation API,
sets each `--config` (keys without a namespace get the project's; keys whose name
contains `Secret` or `Token` are stored as secrets), then runs `pulumi up`, or only
`pulumi preview` with `--preview-only`. With `--drift` it is the scheduled drift
check instead: `pulumi refresh --preview-only --expect-no-changes`, which reads every
instance and task again and writes nothing. It needs the `pulumi` CLI on PATH. The
engine's output streams to stderr; the verdict goes to stdout.

Exit codes:
    0    ready: the run succeeded and every expectation is met
    1    not met: expectations unmet (the run failed on them, or with
         gate:enforce=false the run passed with a warning and exported ready=false)
    2    usage error: bad arguments, no Pulumi project in DIR
    7    drifted (--drift): a tracked field of a deployed instance or task moved
    3    error: anything else (credentials, unknown instance, API unreachable,
         program or engine failure, no `pulumi` CLI); also when an expectation
         failed alongside such an error
    130  interrupted

With --json, stdout holds exactly one JSON object, in the conventions of
`opensearch-fn check --json` (snake_case keys, `schema_version`, `checked_at`):
    {"schema_version": 1, "checked_at": "2026-12-02T08:58:01.123456Z",
     "mode": "up" | "preview" | "drift",
     "result": "ready" | "not_met" | "drifted" | "clean" | "error", "exit_code": N,
     "expect": {"RESOURCE": {...the expectations as given...}},
     "outputs": {...}, "unmet": ["SUBJECT: NAME: expected X, saw Y", ...],
     "drifted": [{"resource": "model", "type": "FunctionInstance",
                  "subject": "FunctionInstance my_app/ctr/ctr_test",
                  "fields": {"latest_generation": {"old": 3, "new": 4}},
                  "line": "FunctionInstance my_app/ctr/ctr_test drifted: ..."}],
     "message": "..."}
`outputs` holds the stack outputs after `up` (secret ones as "[secret]"); it is
empty after a preview, a drift check or a failed run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import pulumi.automation as auto

from pulumi_opensearch_fn.core.outputs import TRACKED_INSTANCE_FIELDS, TRACKED_TASK_FIELDS

READY, NOT_MET, USAGE, ERROR, DRIFTED, INTERRUPTED = 0, 1, 2, 3, 7, 130
# The JSON's version, as in `opensearch-fn check --json`: bumped only when a key
# changes meaning or goes away.
SCHEMA_VERSION = 1
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
# The provider's fields whose move is drift, by resource type. Progress and run times
# are not among them: they never count.
TRACKED = {"FunctionInstance": TRACKED_INSTANCE_FIELDS, "FunctionTask": TRACKED_TASK_FIELDS}
TYPE_PREFIX = "pulumi-python:dynamic/opensearch:"
DRIFT_MARK = " drifted: "


class UsageError(Exception):
    """Bad command-line arguments."""


@dataclass
class Verdict:
    """The outcome, as printed (text or JSON) and as the exit code."""

    result: str  # "ready" | "not_met" | "drifted" | "clean" | "error"
    exit_code: int
    message: str
    outputs: dict[str, Any] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)
    drifted: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Diagnostics:
    """What the engine reported in one run: its diagnostic messages as (severity,
    message), the provider's drift lines, each resource's old and new outputs
    as the steps carried them, and the expectations the resources were given."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    drift_lines: dict[str, str] = field(default_factory=dict)  # by subject
    steps: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)

    def on_event(self, event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if diag is not None and diag.severity != "debug":
            self.seen.append((diag.severity, diag.message.strip()))
            self.on_text(diag.message)
        for step in (event.resource_pre_event, event.res_outputs_event):
            if step is not None:
                self.on_step(step.metadata)

    def on_text(self, text: str) -> None:
        """Keeps the provider's drift lines, by subject: the engine may show them as
        diagnostics or only in its output, with its own prefix before the subject."""
        for line in text.splitlines():
            head, mark, tail = line.strip().partition(DRIFT_MARK)
            for kind in TRACKED if mark else ():
                if kind in head:
                    subject = kind + head.split(kind, 1)[1]
                    self.drift_lines[subject] = f"{subject}{DRIFT_MARK}{tail}"

    def on_step(self, step: auto.StepEventMetadata) -> None:
        kind = step.type.removeprefix(TYPE_PREFIX)
        if kind not in TRACKED:
            return
        old = dict(step.old.outputs or {}) if step.old is not None else {}
        new = dict(step.new.outputs or {}) if step.new is not None else {}
        state = step.new or step.old
        inputs = state.inputs if state is not None else None
        if inputs and inputs.get("expect") is not None:
            self.expect[resource_name(step.urn)] = inputs["expect"]
        if old and new:
            self.steps[step.urn] = (kind, old, new)

    def messages(self, *severities: str) -> list[str]:
        return [m for s, m in self.seen if m and (not severities or s in severities)]

    def drifted(self) -> list[dict[str, Any]]:
        """Each resource whose tracked fields moved between its old and new outputs."""
        found: list[dict[str, Any]] = []
        for urn, (kind, old, new) in self.steps.items():
            fields = {
                key: {"old": old.get(key), "new": new.get(key)}
                for key in TRACKED[kind]
                if old.get(key) != new.get(key)
            }
            if not fields:
                continue
            subject = subject_of(kind, old)
            line = self.drift_lines.get(subject)
            found.append(
                {
                    "resource": resource_name(urn),
                    "type": kind,
                    "subject": subject,
                    "fields": fields,
                    "line": line or drift_line(subject, fields),
                }
            )
        return found


def resource_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def subject_of(kind: str, outputs: dict[str, Any]) -> str:
    """As the provider names it: a task by its generation, or `latest`."""
    names = [outputs.get(k) for k in ("app_group", "function_name", "instance_name")]
    if kind == "FunctionTask":
        names.append(outputs.get("requested_generation") or "latest")
    return f"{kind} " + "/".join(str(name) for name in names)


def drift_line(subject: str, fields: dict[str, dict[str, Any]]) -> str:
    moved = (f"{key} {change['old']} → {change['new']}" for key, change in fields.items())
    return f"{subject}{DRIFT_MARK}" + ", ".join(moved)


# -- arguments ------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit; main() reports instead
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gate.py",
        description="Run the gate project's `pulumi up` (or preview) and exit with its verdict.",
        epilog="exit codes: 0 ready (or no drift), 1 expectations not met, 2 usage error, "
        "3 other error, 7 drifted",
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, metavar="DIR")
    parser.add_argument("--stack", default="dev", metavar="NAME")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--preview-only", action="store_true", help="run preview, not up")
    mode.add_argument(
        "--drift",
        action="store_true",
        help="run the drift check (refresh --preview-only --expect-no-changes), not up",
    )
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


def judge_drift(diagnostics: Diagnostics, error: auto.CommandError | None) -> Verdict:
    """7 when a tracked field moved; an engine failure without drift is an error."""
    drifted = diagnostics.drifted()
    if drifted:
        message = "\n".join(item["line"] for item in drifted)
        return Verdict("drifted", DRIFTED, message, drifted=drifted)
    if error is not None:
        return judge_failure(error, diagnostics)
    return Verdict("clean", READY, "no drift: every tracked field is as deployed")


# -- running ---------------------------------------------------------------------


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_gate(
    work_dir: Path,
    stack_name: str,
    config: dict[str, auto.ConfigValue],
    diagnostics: Diagnostics,
    *,
    mode: str,
) -> Verdict:
    def output(line: str) -> None:
        diagnostics.on_text(line)
        echo(line)

    streams: dict[str, Any] = {
        "on_output": output,
        "on_error": output,
        "on_event": diagnostics.on_event,
        "color": "never",
    }
    try:
        stack = auto.create_or_select_stack(stack_name=stack_name, work_dir=str(work_dir))
        if config:
            stack.set_all_config(config)
        if mode == "drift":
            return drift_check(stack, streams, diagnostics)
        if mode == "preview":
            return judge_preview(stack.preview(**streams), diagnostics)
        return judge_up(stack.up(**streams).outputs, diagnostics)
    except auto.CommandError as error:
        return judge_failure(error, diagnostics)
    except (OSError, auto.InvalidVersionError) as error:  # no `pulumi` on PATH, or too old
        return Verdict("error", ERROR, f"cannot run the Pulumi CLI: {error}")


def drift_check(stack: auto.Stack, streams: dict[str, Any], diagnostics: Diagnostics) -> Verdict:
    """`pulumi refresh --preview-only --expect-no-changes`. Drift is read from the steps'
    old and new outputs (typed values, no text to parse); the provider's own line for
    each drifted resource is kept as it printed it."""
    try:
        stack.preview_refresh(expect_no_changes=True, **streams)
    except auto.CommandError as error:  # the CLI fails when changes were expected not to be
        return judge_drift(diagnostics, error)
    return judge_drift(diagnostics, None)


def document(verdict: Verdict, mode: str, checked_at: datetime, expect: dict[str, Any]) -> str:
    """The one JSON object of --json, in the conventions of `opensearch-fn check --json`."""
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "checked_at": checked_at.isoformat().replace("+00:00", "Z"),
            "mode": mode,
            "expect": expect,
            **asdict(verdict),
        },
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )


def report(
    verdict: Verdict,
    as_json: bool,
    *,
    mode: str = "up",
    checked_at: datetime | None = None,
    expect: dict[str, Any] | None = None,
) -> None:
    if as_json:
        when = checked_at or datetime.now(UTC)
        print(document(verdict, mode, when, expect or {}))
        return
    if verdict.result == "error":
        print(f"gate: error: {verdict.message}", file=sys.stderr)
        return
    if verdict.drifted:
        print(f"drifted: {len(verdict.drifted)} resource(s)")
        for drifted in verdict.drifted:
            print(f"  {drifted['line']}")
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
    mode = "drift" if args.drift else "preview" if args.preview_only else "up"
    checked_at = datetime.now(UTC)
    diagnostics = Diagnostics()
    try:
        verdict = run_gate(work_dir, args.stack, config, diagnostics, mode=mode)
    except KeyboardInterrupt:
        verdict = Verdict("error", INTERRUPTED, "interrupted")
    report(verdict, args.json, mode=mode, checked_at=checked_at, expect=diagnostics.expect)
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
