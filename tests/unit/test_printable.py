"""Server text made safe to show: no control or format character survives, on one line."""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from pulumi_opensearch_fn.core.printable import brief, json_safe, printable

# Anything a terminal could act on: C0, DEL, C1, and Unicode format characters (Cf),
# plus line and paragraph separators.
_ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


_hostile = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(["\x1b", "\x9b", "\r", "\n", "\t", "\u202e", "\u2066", "\u200b", "\ufeff"]),
    )
)


@given(_hostile)
def test_printable_leaves_nothing_a_terminal_acts_on(text):
    shown = printable(text)
    bidi_and_zero_width = {c for c in shown if unicodedata.category(c) == "Cf"}
    # The few format characters kept are harmless joiners of scripts (e.g. U+00AD soft
    # hyphen, U+0600 Arabic number sign); none reorders, hides or breaks lines.
    assert not bidi_and_zero_width & set("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c"
                                         "\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")  # fmt: skip
    assert not any(_ACTIVE.match(c) for c in shown)
    assert len(shown.splitlines()) <= 1


@given(_hostile)
def test_json_safe_is_the_same_document(text):
    document = json.dumps({"message": text}, ensure_ascii=False)
    safe = json_safe(document)
    assert json.loads(safe) == {"message": text}
    assert not any(_ACTIVE.match(c) for c in safe)


def test_a_fake_verdict_is_shown_not_obeyed():
    assert printable("\x1b[2J\x1b[Hall models ready\r\n\u202eok") == "all models ready ok"


def test_brief_names_text_within_its_quotes_and_other_values_by_repr():
    """One helper for library and command-line messages (the CLI's argument types use it)."""
    assert brief("36x") == "'36x'"
    assert brief("9" * 60) == repr("9" * 60)
    assert brief("9" * 5000) == "'" + "9" * 57 + "...'"  # the quote closes: the cut is visible
    assert brief(["a"] * 100) == repr(["a"] * 100)[:57] + "..."
    assert brief(float("nan")) == "nan"
