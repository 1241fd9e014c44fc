"""Pure EBU R128 loudness normalisation: the target, FFmpeg's measurement, the filter."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LoudnessTarget:
    integrated: float = -16.0
    true_peak: float = -1.5
    lra: float = 11.0

    def base(self) -> str:
        return f"loudnorm=I={self.integrated:g}:TP={self.true_peak:g}:LRA={self.lra:g}"


_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def parse_loudnorm(stderr: str) -> dict[str, float] | None:
    """The measured values of pass one, or None when the audio had nothing to measure
    (silence gives -inf, which pass two cannot use)."""
    m = _JSON_BLOCK.search(stderr)
    if m is None:
        return None
    try:
        raw = json.loads(m.group(0))
        values = {k: float(raw[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh")}
        values["target_offset"] = float(raw["target_offset"])
    except (KeyError, ValueError, json.JSONDecodeError):
        return None
    if not all(math.isfinite(v) for v in values.values()):
        return None
    return values


def loudnorm_filter(target: LoudnessTarget, measured: dict[str, float] | None) -> str:
    """Pass two: linear normalisation with the measured values (single pass if none)."""
    if measured is None:
        return target.base()
    return (
        f"{target.base()}:measured_I={measured['input_i']:.2f}"
        f":measured_TP={measured['input_tp']:.2f}:measured_LRA={measured['input_lra']:.2f}"
        f":measured_thresh={measured['input_thresh']:.2f}:offset={measured['target_offset']:.2f}"
        ":linear=true"
    )
