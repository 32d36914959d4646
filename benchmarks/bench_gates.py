"""Attacks on the gates and their input, per class, and how many held.

    .venv/bin/python benchmarks/bench_gates.py [--exact 3000] [--seed 9]

- exact: random (metric value, operator, threshold) triples, values as the service's
  JSON spells them and thresholds as people write them (exponents, `.5`, `+1`,
  30 digits), judged through `Expect(metrics=...)`, the `to_dict` -> JSON ->
  `from_value` wire and the CLI's `--metric`; held when every path gives the exact
  verdict (oracle: `fractions.Fraction`).
- max_regression: random previous / latest values and allowed falls (absolute or
  relative, either direction); held when the verdict is the exact one, or the values
  are refused as too far apart to compare exactly (never a rounded verdict).
- library input: values for Expect, Wait, durations and generations that no model
  holds; held when the answer is one InvalidInputError line.
- CLI input: argument vectors through `main()` against an emulator; held when the
  exit code is 2, the message one line without a traceback, and no request reached
  the emulator.
- polling: `check --wait` with the shortest interval allowed, for 3 s; held when the
  requests stay within 2 per read (instance + latest task) at 1 read a second.
- terminal: random server text (escape sequences, C0, C1, bidi, separators) through
  every line-making function of the CLI; held when nothing a terminal acts on is left.

Exits 1 when any attack was not held.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import operator
import os
import random
import re
import sys
import time
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction

from pulumi_opensearch_fn import Expect, Wait
from pulumi_opensearch_fn.api.errors import InvalidInputError
from pulumi_opensearch_fn.api.models import FunctionTask
from pulumi_opensearch_fn.api.validation import check_generation
from pulumi_opensearch_fn.cli import main as cli_main
from pulumi_opensearch_fn.cli import render
from pulumi_opensearch_fn.cli.parser import build
from pulumi_opensearch_fn.core.durations import parse_duration
from pulumi_opensearch_fn.core.expectations import Observation, Result, evaluate, progress_line
from pulumi_opensearch_fn.core.printable import printable
from pulumi_opensearch_fn.emulator import EmulatorAdmin, EmulatorServer, sample_state

ORACLE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
          "==": operator.eq, "!=": operator.ne}  # fmt: skip
ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
AK, SECRET = "LTAI-emulator-demo", "emulator-demo-secret"
I = ["my_app", "ctr", "ctr_test"]  # noqa: E741


def _digits(rng: random.Random, most: int = 30) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, most)))
    return digits.lstrip("0") or "0"


def _json_number(rng: random.Random) -> str:
    kind = rng.randrange(4)
    sign = rng.choice(["", "-"])
    if kind == 0:
        return sign + _digits(rng)
    if kind == 1:
        return f"{sign}{_digits(rng, 8)}.{_digits(rng, 20)}"
    if kind == 2:
        return repr(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-300, 300))
    return f"{sign}{_digits(rng, 3)}.{_digits(rng, 12)}e{rng.randint(-400, 400)}"


def _written(rng: random.Random, near: str) -> str:
    """A threshold: often the value nudged in its last digits, else anything."""
    if rng.random() < 0.5:
        value = Decimal(near)
        step = Decimal(1).scaleb(value.adjusted() - rng.randint(1, 30))
        with localcontext() as context:
            context.prec = 200  # exact: far more digits than any value here has
            return str(value + rng.choice([-1, 0, 1]) * step)
    sign = rng.choice(["", "+", "-"])
    frac = rng.choice(["", ".", f".{_digits(rng, 15)}"])
    exp = rng.choice(["", f"e{rng.randint(-400, 400)}", f"E+{rng.randint(0, 400)}"])
    return f"{sign}{_digits(rng)}{frac}{exp}"


def _verdict(expect: Expect | None, value: str) -> bool:
    task = FunctionTask.from_body(
        {"generation": 3, "status": "success", "extendInfo": '{"m": ' + value + "}"}
    )
    [result] = evaluate(expect.parse(), Observation(None, task, task))
    return result.met


def exact(rounds: int, rng: random.Random) -> tuple[int, int]:
    held = 0
    parser = build()
    for _ in range(rounds):
        value = _json_number(rng)
        op = rng.choice(list(ORACLE))
        threshold = _written(rng, value)
        truth = ORACLE[op](Fraction(value), Fraction(threshold))
        written = f"m {op} {threshold}"
        crossed = Expect.from_value(json.loads(json.dumps(Expect(metrics=[written]).to_dict())))
        cli = parser.parse_args(["check", *I, "--metric", f"m{op}{threshold}"]).metric
        verdicts = {
            _verdict(Expect(metrics=[written]), value),
            _verdict(Expect(metrics={"m": f"{op} {threshold}"}), value),
            _verdict(crossed, value),
            _verdict(Expect(metrics=cli), value),
        }
        held += verdicts == {truth}
    return held, rounds


def regression(rounds: int, rng: random.Random) -> tuple[int, int]:
    """max_regression: random previous / latest values and amounts, both directions."""
    held = 0
    for _ in range(rounds):
        now, before = _json_number(rng), _json_number(rng)
        if rng.random() < 0.5:  # often right at the bound, where rounding would show
            before = now
        amount = f"{_digits(rng, 4)}.{_digits(rng, 20)}"
        relative, lower = rng.random() < 0.5, rng.random() < 0.5
        allowed = Fraction(amount) * (abs(Fraction(before)) / 100 if relative else 1)
        truth = (
            Fraction(now) <= Fraction(before) + allowed
            if lower
            else Fraction(now) >= Fraction(before) - allowed
        )
        text = f"m {amount}{'%' if relative else ''}{' lower' if lower else ''}"
        latest, previous = (
            FunctionTask.from_body(
                {"generation": g, "status": "success", "extendInfo": '{"m": ' + v + "}"}
            )
            for g, v in ((2, now), (1, before))
        )
        seen = Observation(None, latest, latest, previous_success_task=previous, previous_read=True)
        [result] = evaluate(Expect(max_regression=[text]).parse(), seen)
        # Values too far apart for exact decimal arithmetic are refused, never rounded.
        held += result.met is truth or (not result.met and "compare exactly" in result.seen)
    return held, rounds


LIBRARY: list[Callable[[], object]] = [
    *(lambda v=v: Expect(max_age=v).validated() for v in (
        float("nan"), float("inf"), float("-inf"), 1e300, 10**400, "99999999999d",
        "9999999999999999999w", "1" * 5000 + "s", "3²h", -1, 0, [], {}, "0.0000001s",
    )),
    *(lambda v=v: Expect(metrics=v).validated() for v in (  # type: ignore[arg-type]
        5, 5.5, True, [5], [None], {"auc": 0.8}, {5: ">= 1"}, ["auc >= nan"], ["auc>=inf"],
        ["auc >= 1e99999999999999999999"], ["auc >= " + "9" * 401], {"auc": ">= ²"},
        ["auc >= 0x10"], ["auc >= 1_000"], "auc >= -Infinity",
    )),
    *(lambda v=v: Expect(min_generation=v).validated() for v in (  # type: ignore[arg-type]
        3.9, 0.5, float("nan"), float("inf"), -1, "3", True, [3],
    )),
    *(lambda v=v: Wait(interval=v).validated() for v in (
        "0.000001s", 0.5, 0.999, "999ms", float("nan"), "9999999999999999999w",
    )),
    *(lambda v=v: Wait(timeout=v).validated() for v in (float("inf"), 1e300, "0s")),
    *(lambda v=v: check_generation(v) for v in (
        "²", "٣", "3.5", 3.5, float("nan"), "9" * 5000, 2**63, 1e300, "-4", "", " ", "0x3",
    )),
    *(lambda v=v: parse_duration("d", v) for v in (b"1s", None, object(), "1h30", "h")),
]  # fmt: skip


def library() -> tuple[int, int]:
    held = 0
    for attack in LIBRARY:
        try:
            attack()
        except InvalidInputError as exc:
            held += "\n" not in exc.message and len(exc.message) < 400
    return held, len(LIBRARY)


CLI: list[list[str]] = [
    ["check", *I, "--max-age", "99999999999d"],
    ["check", *I, "--max-age", "nan"],
    ["check", *I, "--wait", "--timeout", "9999999999999999999w"],
    ["check", *I, "--wait", "--interval", "0.000001s"],
    ["check", *I, "--wait", "--interval", "0.5s"],
    ["check", *I, "--metric", "auc>=nan"],
    ["check", *I, "--metric", "auc>=Infinity"],
    ["check", *I, "--metric", "auc>=1e99999999999999999999"],
    ["check", *I, "--metric", "auc>=" + "9" * 5000],
    ["check", *I, "--min-generation", "3.9"],
    ["check", *I, "--min-generation", "9" * 5000],
    ["check", *I, "--min-generation", "²"],
    ["check", "--instances-file", "/dev/zero"],
    ["check", "--instances-file", "/"],
    ["task", *I, "²"],
    ["task", *I, "٣"],
    ["task", *I, "9" * 5000],
    ["task", *I, "3.0"],
    ["tasks", *I, "--limit", "٣"],
    ["tasks", *I, "--page-size", "9" * 5000],
    ["tasks", *I, "--start-time", "9" * 5000],
    ["instance", "a" * 5000, "ctr", "x"],
    ["instance", "my\x1bapp", "ctr", "x"],
    ["emulator", "--port", "99999"],
    ["emulator", "--port", "-1"],
    ["emulator", "--host", "x" * 5000],
]


def cli(admin: EmulatorAdmin, url: str) -> tuple[int, int]:
    held = 0
    for argv in CLI:
        admin.clear_requests()
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            extra = [] if argv[0] == "emulator" else ["--endpoint", url]
            code = cli_main([*argv, *extra])
        last = err.getvalue().splitlines()[-1] if err.getvalue() else ""
        held += (
            code == 2
            and "Traceback" not in err.getvalue()
            and 0 < len(last) < 400
            and not admin.requests()
        )
    return held, len(CLI)


def polling(admin: EmulatorAdmin, url: str) -> tuple[int, int, int]:
    admin.start_task(*I, 86_400)  # never finishes within the run
    admin.clear_requests()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        started = time.monotonic()
        cli_main(["--endpoint", url, "check", *I, "--task-status", "success",
                  "--wait", "--interval", "1s", "--timeout", "3s"])  # fmt: skip
        took = time.monotonic() - started
    sent = len(admin.requests())
    reads_allowed = int(took) + 1  # one at the start, then at most one a second
    return int(sent <= 2 * reads_allowed), 1, sent


def _hostile(rng: random.Random) -> str:
    pieces = ["\x1b[2J", "\x1b[1;1H", "\x1b]0;title\x07", "\x9b2J", "\r", "\n", "\t", "\u202e",
              "\u2066", "\u200b", "\ufeff", "\u2028", "\x00", "\x7f", "ok", "ready"]  # fmt: skip
    text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
    return text + "".join(chr(rng.randint(0, 0x3000)) for _ in range(rng.randint(0, 8)))


def terminal(rounds: int, rng: random.Random) -> tuple[int, int]:
    held = 0
    for _ in range(rounds):
        text = _hostile(rng)
        task = FunctionTask.from_body({
            "generation": 4, "status": text, "progress": 5,
            "extendInfo": json.dumps({"errors": [text], "auc": 0.5}),
        })  # fmt: skip
        seen = Observation(None, task, task)
        lines = [
            printable(text),
            render.clean(text),
            render.table(("A", "B"), [(text, text)]),
            render.key_values([("a", text)]),
            render.to_json({"a": text, "b": [text]}),
            str(Result("status", "success", text, False)),
            progress_line("app/fn/inst", seen, 3.0),
        ]
        safe = all(not ACTIVE.search(line.replace("\n", "")) for line in lines)
        held += safe and json.loads(lines[4])["a"] == text
    return held, rounds


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--exact", type=int, default=3000, help="random triples")
    options.add_argument("--seed", type=int, default=9)
    args = options.parse_args()
    rng = random.Random(args.seed)
    os.environ.update(ALIBABA_CLOUD_ACCESS_KEY_ID=AK, ALIBABA_CLOUD_ACCESS_KEY_SECRET=SECRET)
    rows = [("exact comparison (4 paths each)", *exact(args.exact, rng)),
            ("max_regression exact comparison", *regression(1000, rng)),
            ("library input", *library())]  # fmt: skip
    with (
        EmulatorServer(sample_state(), host="127.0.0.1") as server,
        server.admin() as admin,
    ):
        rows.append(("CLI input (exit 2, no request)", *cli(admin, server.url)))
        held, total, sent = polling(admin, server.url)
        rows.append((f"polling (3 s at the minimum interval: {sent} requests)", held, total))
    rows.append(("terminal (server text on every CLI line kind)", *terminal(1000, rng)))
    print("| class | attacks | held |\n|---|---|---|")
    for name, held, total in rows:
        print(f"| {name} | {total} | {held} |")
    return 0 if all(held == total for _, held, total in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
