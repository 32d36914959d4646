"""Counts how often a run turns expectation text into values: `metrics` thresholds,
`max_regression` limits and the durations of `Expect` and `Wait` (by field)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from pulumi_opensearch_fn.core import expectations
from pulumi_opensearch_fn.core.expectations import MetricThreshold, RegressionLimit


class Parses:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[str] = Counter()
        for cls, name in ((MetricThreshold, "threshold"), (RegressionLimit, "limit")):
            monkeypatch.setattr(cls, "parse", classmethod(self._counting(cls.parse, name)))
        duration = expectations.parse_duration

        def counting_duration(kind: str, value: object) -> Any:
            self.counts[kind] += 1
            return duration(kind, value)

        monkeypatch.setattr(expectations, "parse_duration", counting_duration)

    def _counting(self, parse: Any, name: str) -> Any:
        def counting(cls: type, *args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return parse(*args, **kwargs)

        return counting
