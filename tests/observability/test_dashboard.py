"""The provisioned Grafana dashboard only queries metrics that streamcore exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamcore.observability.metrics import Metrics

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"


def exported_names() -> set[str]:
    names: set[str] = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        # Labelled series have no samples until first observed: derive their names.
        names.update(family.name + s for s in suffixes.get(family.type, []))
    return names


def test_every_dashboard_metric_is_exported() -> None:
    exported = exported_names()
    dashboards = list(DASHBOARDS.glob("*.json"))
    assert dashboards
    for path in dashboards:
        exprs = [t["expr"] for p in json.loads(path.read_text())["panels"] for t in p["targets"]]
        used = {m for e in exprs for m in re.findall(r"\b(?:streamcore|process)_[a-z_]+", e)}
        assert used, path
        missing = sorted(m for m in used if m not in exported)
        assert missing == [], f"{path.name} queries metrics nobody exports: {missing}"
