from __future__ import annotations

from pathlib import Path

from streamcore.media.ffmpeg_args import (
    MASTER_PLAYLIST,
    VARIANT_PLAYLIST,
    audio_derivatives_args,
    extract_audio_args,
    hls_ladder_args,
    input_args,
    ladder_video_codec_args,
    ladder_video_graph,
    loudnorm_analyze_args,
    mp4_mux_args,
    poster_args,
    poster_name,
    scale_parents,
    segment_start_args,
    storyboard_args,
)
from streamcore.media.ladder import plan_ladder
from streamcore.media.loudness import LoudnessTarget
from streamcore.media.probe import ALLOWED_DEMUXERS, MediaInfo
from streamcore.media.storyboard import StoryboardPlan

W = Path("/w")
WHITELIST = ",".join(ALLOWED_DEMUXERS)


def info(
    w: int | None = 1280,
    h: int | None = 720,
    *,
    audio: bool = True,
    duration: float = 10.0,
    fps: float = 30.0,
    vfr: bool | None = False,
) -> MediaInfo:
    return MediaInfo(
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration=duration,
        bitrate=None,
        width=w,
        height=h,
        frame_rate=fps if w else None,
        video_codec="h264" if w else None,
        audio_codec="aac" if audio else None,
        variable_frame_rate=vfr if w else None,
    )


def value(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_input_reads_one_file_with_the_probed_demuxer() -> None:
    assert input_args(W / "src", info()) == [
        "-protocol_whitelist", "file,pipe", "-format_whitelist", WHITELIST,
        "-f", "mov", "-i", "/w/src",
    ]  # fmt: skip


def test_one_process_args_split_every_rung() -> None:
    src = info()
    args = hls_ladder_args(Path("/in/source"), Path("/out"), src, plan_ladder(src))
    assert value(args, "-filter_complex").startswith("[0:v:0]split=2[s0][s1];")
    assert value(args, "-var_stream_map") == (
        "v:0,a:0,name:720p v:1,a:1,name:480p v:2,a:2,name:360p v:3,a:3,name:240p"
    )
    assert value(args, "-hls_time") == "4"
    assert value(args, "-protocol_whitelist") == "file,pipe"
    # The demuxer is forced to what the probe saw.
    assert value(args, "-f") == "mov"
    assert "-xerror" in args
    assert value(args, "-b:v:0") == "2800k"
    assert value(args, "-maxrate:v:0") == "2996k"
    assert value(args, "-g") == "60"
    assert value(args, "-keyint_min") == "60"
    assert value(args, "-sc_threshold") == "0"
    # 30 fps: a keyframe every 60 frames is one on every 2 s boundary.
    assert "-force_key_frames" not in args
    assert value(args, "-hls_playlist_type") == "event"
    assert value(args, "-master_pl_name") == MASTER_PLAYLIST
    assert value(args, "-hls_segment_filename") == "/out/%v/seg_%05d.ts"
    assert args[-1] == f"/out/%v/{VARIANT_PLAYLIST}"


def test_rungs_half_the_size_of_one_above_are_scaled_from_it() -> None:
    src = info(1920, 1080)
    assert ladder_video_graph(src, plan_ladder(src)) == (
        "[0:v:0]split=2[s0][s1]"
        ";[s0]scale=1920:1080:flags=bicubic,setsar=1,split=2[v0][c2]"
        ";[s1]scale=1280:720:flags=bicubic,setsar=1,split=2[v1][c3]"
        ";[c2]scale=854:480:flags=bicubic,setsar=1,split=2[v2][c4]"
        ";[c3]scale=640:360:flags=bicubic,setsar=1[v3]"
        ";[c4]scale=426:240:flags=bicubic,setsar=1[v4]"
    )
    assert scale_parents(plan_ladder(src)) == [None, None, 0, 1, 2]
    portrait = plan_ladder(info(1080, 1920))
    assert scale_parents(portrait) == [None, None, 0, 1, 2]
    one = info(320, 180)
    assert ladder_video_graph(one, plan_ladder(one)) == (
        "[0:v:0]split=1[s0];[s0]scale=320:180:flags=bicubic,setsar=1[v0]"
    )


def test_only_variable_rate_sources_are_retimed() -> None:
    for src in (info(vfr=True), info(vfr=None), info(fps=120.0)):
        graph = ladder_video_graph(src, plan_ladder(src))
        assert graph.startswith(f"[0:v:0]fps={min(src.frame_rate or 0, 60):g},split=2")
    assert "fps=" not in ladder_video_graph(info(), plan_ladder(info()))


def test_keyframes_by_expression_when_gops_are_not_whole_frames() -> None:
    ntsc = info(fps=30000 / 1001)
    args = ladder_video_codec_args(ntsc, plan_ladder(ntsc), "veryfast", 4)
    assert value(args, "-force_key_frames") == "expr:gte(t,n_forced*2)"
    assert value(args, "-g") == "60"
    odd = ladder_video_codec_args(info(fps=25.0), plan_ladder(info()), "veryfast", 5)
    assert value(odd, "-g") == "125"
    assert "-force_key_frames" not in odd
    # A variable rate retimed to a whole rate needs no expression either.
    vfr = info(fps=24.0, vfr=True)
    assert "-force_key_frames" not in ladder_video_codec_args(vfr, plan_ladder(vfr), "fast", 4)


def test_audio_only_ladder() -> None:
    src = info(None, None)
    args = hls_ladder_args(W / "src", W / "out", src, plan_ladder(src), segment_seconds=6)
    assert "-filter_complex" not in args
    assert value(args, "-map") == "0:a:0"
    assert value(args, "-b:a:0") == "128k"
    assert value(args, "-var_stream_map") == "a:0,name:audio"
    assert value(args, "-hls_time") == "6"


def test_loudnorm_analyze_measures_audio_only() -> None:
    args = loudnorm_analyze_args(W / "src", info(), LoudnessTarget())
    assert args[:5] == ["-hide_banner", "-nostdin", "-nostats", "-v", "info"]
    assert args[5:13] == input_args(W / "src", info())
    assert args[13:] == [
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", "loudnorm=I=-16:TP=-1.5:LRA=11:print_format=json",
        "-f", "null", "-",
    ]  # fmt: skip


def test_audio_derivatives_for_a_video_and_for_audio() -> None:
    video = audio_derivatives_args(W / "src", info(), W / "der", "loudnorm=I=-16", for_mp4=True)
    assert value(video, "-filter_complex") == (
        "[0:a:0]loudnorm=I=-16,aresample=48000,asplit=2[a_mp4][a_mp3]"
    )
    assert video[video.index("-filter_complex") + 2 :] == [
        "-map", "[a_mp4]", "-c:a", "aac", "-b:a", "160k", "-ac", "2",
        "-f", "mp4", "/w/der/normalised-audio.m4a",
        "-map", "[a_mp3]", "-c:a", "libmp3lame", "-b:a", "192k", "-ac", "2",
        "-f", "mp3", "/w/der/audio.mp3",
    ]  # fmt: skip
    audio = audio_derivatives_args(W / "src", info(), W / "der", "loudnorm=I=-16", for_mp4=False)
    assert value(audio, "-filter_complex") == "[0:a:0]loudnorm=I=-16,aresample=48000[a_mp3]"
    assert "[a_mp4]" not in audio
    assert audio[-1] == "/w/der/audio.mp3"


def test_mp4_is_a_remux_with_or_without_audio() -> None:
    both = mp4_mux_args(W / "top.ts", W / "a.m4a", W / "der")
    assert both[6:] == [
        "-protocol_whitelist", "file", "-f", "mpegts", "-i", "/w/top.ts",
        "-protocol_whitelist", "file", "-f", "mp4", "-i", "/w/a.m4a",
        "-map", "0:v:0", "-map", "1:a:0",
        "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "/w/der/video.mp4",
    ]  # fmt: skip
    silent = mp4_mux_args(W / "top.ts", None, W / "der")
    assert "1:a:0" not in silent
    assert silent.count("-i") == 1


def test_posters_skip_dark_frames_in_every_size_up_to_the_source() -> None:
    args = poster_args(W / "top.ts", info(duration=100.0), W / "th")
    assert value(args, "-skip_frame") == "nokey"
    assert value(args, "-ss") == "10.000"  # 10% in
    assert value(args, "-t") == "60"
    assert value(args, "-filter_complex") == (
        "[0:v:0]signalstats,metadata=mode=select:key=lavfi.signalstats.YAVG"
        ":value=32:function=greater,thumbnail=n=30,split=3[p0][p1][p2]"
        ";[p0]scale=1280:-2,setsar=1[o0];[p1]scale=640:-2,setsar=1[o1]"
        ";[p2]scale=320:-2,setsar=1[o2]"
    )
    assert [a for a in args if a.endswith(".jpg")] == [
        "/w/th/poster-1280.jpg",
        "/w/th/poster-640.jpg",
        "/w/th/poster-320.jpg",
    ]


def test_posters_without_the_dark_filter() -> None:
    args = poster_args(W / "top.ts", info(500, 282, duration=1000.0), W / "th", skip_dark=False)
    assert value(args, "-ss") == "30.000"  # at most 30 s in
    assert value(args, "-filter_complex") == (
        "[0:v:0]thumbnail=n=30,split=1[p0];[p0]scale=320:-2,setsar=1[o0]"
    )
    tiny = poster_args(W / "top.ts", info(241, 136), W / "th", skip_dark=False)
    assert tiny[-1] == "/w/th/poster-240.jpg"  # smaller than every size: its own, even
    assert poster_name(640) == "poster-640.jpg"


def test_storyboard_tiles_the_low_rung() -> None:
    plan = StoryboardPlan(interval=3, tiles=12, columns=10, rows=2, tile_width=160, tile_height=90)
    args = storyboard_args(W / "low.ts", W / "th", plan)
    assert value(args, "-i") == "/w/low.ts"
    assert value(args, "-vf") == (
        "fps=1/3,scale=160:90,setsar=1,tpad=stop_mode=clone:stop=20,tile=10x2"
    )
    assert args[-5:] == ["-frames:v", "1", "-q:v", "4", "/w/th/storyboard.jpg"]


def test_transcription_audio_and_segment_start() -> None:
    args = extract_audio_args(W / "src", W / "a.wav", info(), sample_rate=16000)
    assert args[5:13] == input_args(W / "src", info())
    assert args[13:] == [
        "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", "16000",
        "-c:a", "pcm_s16le", "-f", "wav", "-progress", "pipe:1", "-nostats", "/w/a.wav",
    ]  # fmt: skip
    assert segment_start_args(W / "s.ts") == [
        "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", "mpegts",
        "-of", "json", "-show_entries", "stream=start_time", "/w/s.ts",
    ]  # fmt: skip
