from __future__ import annotations

import pytest

from streamcore.media.loudness import LoudnessTarget, loudnorm_filter, parse_loudnorm

# Pass one's stderr for a 3 s 440 Hz sine (FFmpeg 5.1, lavfi `sine=frequency=440:duration=3`).
SINE_STDERR = """\
size=N/A time=00:00:03.00 bitrate=N/A speed=15.7x
video:0kB audio:1125kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_loudnorm_0 @ 0x556b142f6e00]
{
\t"input_i" : "-21.75",
\t"input_tp" : "-18.06",
\t"input_lra" : "0.00",
\t"input_thresh" : "-31.75",
\t"output_i" : "-15.95",
\t"output_tp" : "-12.27",
\t"output_lra" : "0.00",
\t"output_thresh" : "-25.95",
\t"normalization_type" : "dynamic",
\t"target_offset" : "-0.05"
}
"""
# The same for digital silence (`anullsrc`): nothing to measure.
SILENCE_STDERR = """\
[Parsed_loudnorm_0 @ 0x5622fc10fe80]
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
"""


def test_parses_the_measurement_of_a_sine() -> None:
    assert parse_loudnorm(SINE_STDERR) == {
        "input_i": -21.75,
        "input_tp": -18.06,
        "input_lra": 0.0,
        "input_thresh": -31.75,
        "target_offset": -0.05,
    }


@pytest.mark.parametrize(
    "stderr",
    [
        SILENCE_STDERR,
        "",
        "no json here",
        '{"input_i": "-20", "input_tp": "-1"}',  # fields missing
        '{"input_i": "x", "input_tp": "-1", "input_lra": "1", "input_thresh": "-30",'
        ' "target_offset": "0"}',
    ],
)
def test_nothing_usable_gives_none(stderr: str) -> None:
    assert parse_loudnorm(stderr) is None


def test_filter_single_pass_without_measurement() -> None:
    assert loudnorm_filter(LoudnessTarget(), None) == "loudnorm=I=-16:TP=-1.5:LRA=11"
    target = LoudnessTarget(integrated=-23.0, true_peak=-2.0, lra=7.5)
    assert loudnorm_filter(target, None) == "loudnorm=I=-23:TP=-2:LRA=7.5"


def test_filter_linear_with_measurement() -> None:
    measured = parse_loudnorm(SINE_STDERR)
    assert loudnorm_filter(LoudnessTarget(), measured) == (
        "loudnorm=I=-16:TP=-1.5:LRA=11:measured_I=-21.75:measured_TP=-18.06"
        ":measured_LRA=0.00:measured_thresh=-31.75:offset=-0.05:linear=true"
    )
