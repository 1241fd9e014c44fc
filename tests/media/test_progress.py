from __future__ import annotations

import pytest

from streamcore.media.progress import progress_fraction


def test_progress_fraction() -> None:
    assert progress_fraction({"out_time_us": "5000000", "progress": "continue"}, 10) == 0.5
    assert progress_fraction({"out_time_us": "N/A"}, 10) is None
    assert progress_fraction({"out_time_us": "20000000"}, 10) == 1.0
    assert progress_fraction({"progress": "end"}, 10) == 1.0


@pytest.mark.parametrize(
    ("block", "duration", "expected"),
    [
        ({"out_time_ms": "2500000"}, 10.0, 0.25),  # microseconds despite the name
        ({"out_time_us": "N/A", "out_time_ms": "1000000"}, 4.0, 0.25),
        ({"out_time_us": "-40000"}, 10.0, 0.0),  # FFmpeg's negative start
        ({"out_time_us": "garbage"}, 10.0, None),
        ({"out_time_us": "5000000"}, 0.0, None),  # no duration: nothing to compare with
        ({"progress": "end"}, 0.0, 1.0),
        ({"frame": "10"}, 10.0, None),
    ],
)
def test_progress_edge_cases(
    block: dict[str, str], duration: float, expected: float | None
) -> None:
    assert progress_fraction(block, duration) == expected
