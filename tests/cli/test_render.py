"""Tables, cleaning of service text, and the instances-file format."""

from __future__ import annotations

import pytest

from pulumi_opensearch_fn.api.errors import InvalidInputError
from pulumi_opensearch_fn.api.identity import Identity
from pulumi_opensearch_fn.cli import render
from pulumi_opensearch_fn.cli.targets import load, parse_lines


def test_table_aligns_and_fits_a_width():
    text = render.table(("A", "LONG HEADER", "C"), [("x", "y", "z" * 50), ("wide cell", None, "")])
    header, first, second = text.splitlines()
    assert header.index("LONG HEADER") == first.index("y") == 11
    assert second.split() == ["wide", "cell", "-", "-"]
    fitted = render.table(("A", "B"), [("a" * 40, "b" * 80)], width=60)
    assert all(len(line) <= 60 for line in fitted.splitlines())
    assert fitted.splitlines()[1].endswith("…")


def test_service_text_cannot_drive_the_terminal():
    assert render.clean("evil\x1b[2Jname\nnext") == "evilname next"
    assert render.clean(None) == "-"


def test_instances_file_lines():
    lines = [
        "# header comment\n",
        "  my_app/ctr/ctr_test  \n",
        "my_app ctr ctr_two # trailing comment\n",
        "my%20app/ctr/a%2Fb\n",  # percent-encoded, as resource ids
        "app ctr name#with-hash\n",
    ]
    assert parse_lines(lines, "f") == [
        Identity("my_app", "ctr", "ctr_test"),
        Identity("my_app", "ctr", "ctr_two"),
        Identity("my app", "ctr", "a/b"),
        Identity("app", "ctr", "name#with-hash"),
    ]
    assert Identity("my app", "ctr", "a/b").resource_id == "my%20app/ctr/a%2Fb"


def test_targets_are_deduplicated_in_order(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("b/f/i\na/f/i\n")
    assert load(["a", "f", "i"], str(path)) == [Identity("a", "f", "i"), Identity("b", "f", "i")]


def test_bad_line_names_file_and_line():
    with pytest.raises(InvalidInputError, match=r"^list:2: instance name must not be empty"):
        parse_lines(["a/f/i\n", "a/f/%20\n"], "list")
