from __future__ import annotations

import pytest

from streamcore.media.failures import (
    DecodeFailed,
    LimitExceeded,
    MediaError,
    ProbeFailed,
    SourceMissing,
    TranscodeFailed,
    TransientError,
    UnsupportedMedia,
    classify_ffmpeg_failure,
    last_stderr_line,
    stall_failure,
    timeout_failure,
    without_paths,
)
from streamcore.transcripts.errors import AudioExtractionFailed

WORK = "/var/lib/streamcore/work/01HZX/source"


@pytest.mark.parametrize(
    "cls",
    [ProbeFailed, UnsupportedMedia, DecodeFailed, LimitExceeded, TranscodeFailed, SourceMissing],
)
def test_media_errors_are_permanent_and_named(cls: type[MediaError]) -> None:
    exc = cls("x")
    assert exc.permanent is True
    assert exc.name == cls.__name__


def test_transient_errors_are_retried() -> None:
    exc = TransientError("broker down")
    assert exc.permanent is False
    assert exc.name == "TransientError"
    assert not isinstance(exc, MediaError)


def test_transcript_errors_are_media_errors() -> None:
    exc = AudioExtractionFailed("x")
    assert isinstance(exc, MediaError)
    assert (exc.permanent, exc.name) == (True, "AudioExtractionFailed")


def test_decode_markers_blame_the_input() -> None:
    tail = (
        "[h264 @ 0x55d0c8a3c8c0] Invalid NAL unit size (1234 > 567).\n"
        "[h264 @ 0x55d0c8a3c8c0] error while decoding MB 12 7\n"
        f"{WORK}: Invalid data found when processing input\n\n"
    )
    exc = classify_ffmpeg_failure(187, tail)
    assert type(exc) is DecodeFailed
    assert str(exc) == (
        "the file is damaged and cannot be decoded"
        " (source: Invalid data found when processing input)"
    )


def test_other_failures_are_transcode_failures_with_the_exit_code() -> None:
    tail = f"Error opening output file {WORK}/hls/720p/index.m3u8.\nNo space left on device\n"
    exc = classify_ffmpeg_failure(1, tail)
    assert type(exc) is TranscodeFailed
    assert str(exc) == "FFmpeg failed with exit code 1: No space left on device"
    assert str(classify_ffmpeg_failure(None, "")) == "FFmpeg failed with exit code None: "


def test_no_server_path_leaks_into_a_message() -> None:
    for tail in (
        f"Error opening input file {WORK}.",
        f"[in#0 @ 0x1] Error opening input: No such file or directory '{WORK}/x.ts'",
        f"file:{WORK}: Permission denied",
    ):
        for exc in (
            classify_ffmpeg_failure(1, tail),
            classify_ffmpeg_failure(1, "decode\n" + tail),
        ):
            assert "/var/lib" not in str(exc)
            assert "streamcore/work" not in str(exc)


def test_without_paths_keeps_fractions_and_file_names() -> None:
    assert without_paths("fps=30000/1001 tb 1/90000") == "fps=30000/1001 tb 1/90000"
    assert without_paths(f"{WORK}/hls/seg_00003.ts: corrupt") == "seg_00003.ts: corrupt"
    assert without_paths("/") == "/"


def test_last_stderr_line_is_bounded() -> None:
    assert last_stderr_line("first\n  second  \n\n \n") == "second"
    assert last_stderr_line("") == ""
    assert last_stderr_line("x" * 1000) == "x" * 300


def test_timeout_is_a_limit_and_a_stall_is_transient() -> None:
    timeout = timeout_failure("ran longer than 600s")
    assert type(timeout) is LimitExceeded
    assert str(timeout) == "processing took too long (ran longer than 600s)"
    stall = stall_failure("no progress for 120s")
    assert type(stall) is TransientError
    assert str(stall) == "FFmpeg stalled: no progress for 120s"


def test_damaged_aac_is_the_inputs_fault() -> None:
    tail = "[aac @ 0x55b6b21623c0] Prediction is not allowed in AAC-LC.\n"
    assert isinstance(classify_ffmpeg_failure(1, tail), DecodeFailed)
