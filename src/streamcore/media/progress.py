"""Pure parsing of FFmpeg `-progress` blocks."""

from __future__ import annotations


def progress_fraction(block: dict[str, str], duration: float) -> float | None:
    """Fraction done (0..1) from one progress block, or None when it says nothing."""
    if block.get("progress") == "end":
        return 1.0
    if duration <= 0:
        return None
    for key, scale in (("out_time_us", 1e-6), ("out_time_ms", 1e-6)):
        # FFmpeg's out_time_ms is in microseconds too (a long-standing misnomer).
        raw = block.get(key)
        if raw is None or raw == "N/A":
            continue
        try:
            seconds = int(raw) * scale
        except ValueError:
            continue
        return max(0.0, min(1.0, seconds / duration))
    return None
