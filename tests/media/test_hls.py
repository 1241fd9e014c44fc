from __future__ import annotations

import pytest

from streamcore.media import hls

MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"
360p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=500,RESOLUTION=426x240,CODECS="avc1.42c015,mp4a.40.2"
240p/index.m3u8
"""


def test_master_gets_a_subtitles_group_referenced_by_every_variant() -> None:
    out = hls.add_subtitles(MASTER, uri="subs/en.m3u8", language="en", name="English")
    lines = out.splitlines()
    media = [ln for ln in lines if ln.startswith("#EXT-X-MEDIA:")]
    assert media == [
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",'
        'DEFAULT=NO,AUTOSELECT=YES,URI="subs/en.m3u8"'
    ]
    assert lines.index(media[0]) < min(
        i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM-INF")
    )
    infs = [ln for ln in lines if ln.startswith("#EXT-X-STREAM-INF")]
    assert len(infs) == 2
    assert all(ln.endswith(',SUBTITLES="subs"') for ln in infs)
    assert "360p/index.m3u8" in lines
    assert "240p/index.m3u8" in lines


def test_adding_again_replaces_the_rendition() -> None:
    once = hls.add_subtitles(MASTER, uri="subs/en.m3u8", language="en", name="English")
    twice = hls.add_subtitles(once, uri="subs/de.m3u8", language="de", name="German")
    assert twice.count("#EXT-X-MEDIA:") == 1
    assert 'URI="subs/de.m3u8"' in twice
    assert twice.count('SUBTITLES="subs"') == 2


def test_unknown_language_leaves_out_the_attribute() -> None:
    out = hls.add_subtitles(MASTER, uri="subs/und.m3u8", language=None, name="Unknown")
    assert "LANGUAGE=" not in out


def test_master_without_variants_is_an_error() -> None:
    with pytest.raises(ValueError, match="no variant"):
        hls.add_subtitles("#EXTM3U\n", uri="x", language="en", name="English")


def test_subtitle_playlist_covers_the_duration() -> None:
    text = hls.subtitle_playlist("en.vtt", 10.2)
    assert "#EXT-X-TARGETDURATION:11\n" in text
    assert "#EXTINF:10.200,\nen.vtt\n" in text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")


def test_first_segment_and_mpegts_offset() -> None:
    assert hls.first_segment(MASTER) == "360p/index.m3u8"
    assert hls.first_segment("#EXTM3U\n") is None
    probe = {"streams": [{"start_time": "1.446444"}, {"start_time": "1.400000"}, {}]}
    assert hls.mpegts_offset(probe) == 126000
    assert hls.mpegts_offset({"streams": []}) is None


def test_resolve_stays_inside_the_asset() -> None:
    assert hls.resolve("master.m3u8", "720p/index.m3u8") == "720p/index.m3u8"
    assert hls.resolve("720p/index.m3u8", "seg_00000.ts") == "720p/seg_00000.ts"
    assert hls.resolve("720p/index.m3u8", "../master.m3u8") == "master.m3u8"
    assert hls.resolve("master.m3u8", "../../etc/passwd") is None
    assert hls.resolve("master.m3u8", "/etc/passwd") is None
    assert hls.resolve("master.m3u8", "http://127.0.0.1/x.ts") is None
    assert hls.resolve("master.m3u8", "file:///etc/passwd") is None


def test_rewrite_signs_uris_and_attributes() -> None:
    text = (
        "#EXTM3U\n"
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="en",URI="subs/en.m3u8"\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=2x2,CODECS="avc1.64001f"\n'
        "720p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1\n"
        "http://evil.example/x.m3u8\n"
    )
    out = hls.rewrite_playlist(text, "master.m3u8", lambda p: f"T({p})")
    assert 'URI="T(subs/en.m3u8)"' in out
    assert "T(720p/index.m3u8)" in out
    assert "evil" not in out


def test_rewrite_drops_what_leaves_the_asset() -> None:
    text = (
        "#EXTM3U\n"
        '#EXT-X-KEY:METHOD=AES-128,URI="../../../other-asset/key.bin"\n'
        '#EXT-X-MAP:URI="https://evil.example/init.mp4"\n'
        "#EXTINF:4.000,\n"
        "seg_00000.ts\n"
        "#EXTINF:4.000,\n"
        "../../../etc/passwd\n"
        "#EXTINF:4.000,\n"
        "/abs/seg.ts\n"
        "\n"
        "#EXT-X-ENDLIST\n"
    )
    out = hls.rewrite_playlist(text, "hls/720p/index.m3u8", lambda p: f"T({p})")
    assert out == (
        "#EXTM3U\n"
        '#EXT-X-KEY:METHOD=AES-128,URI=""\n'
        '#EXT-X-MAP:URI=""\n'
        "#EXTINF:4.000,\n"
        "T(hls/720p/seg_00000.ts)\n"
        "#EXTINF:4.000,\n"
        "#EXTINF:4.000,\n"
        "\n"
        "#EXT-X-ENDLIST\n"
    )


def test_rewrite_resolves_relative_to_the_playlist() -> None:
    text = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\n../480p/seg_1.ts\n'
    out = hls.rewrite_playlist(text, "hls/720p/index.m3u8", lambda p: f"T({p})")
    assert (
        out == '#EXTM3U\n#EXT-X-MAP:URI="T(hls/720p/init.mp4)"\n#EXTINF:4,\nT(hls/480p/seg_1.ts)\n'
    )


def test_vtt_images_signed_captions_untouched() -> None:
    text = (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:01.000\n"
        "storyboard.jpg#xywh=0,0,160,90\n"
        "\n"
        "00:00:01.000 --> 00:00:02.000\n"
        "../../outside.png\n"
        "\n"
        "00:00:02.000 --> 00:00:03.000\n"
        "a caption about photo.jpg and <b>bold</b>\n"
        "\n"
        "00:00:03.000 --> 00:00:04.000\n"
        "sprites/b.webp\n"
    )
    out = hls.rewrite_vtt_images(text, "thumbnails/storyboard.vtt", lambda p: f"T({p})")
    lines = out.splitlines()
    assert lines[3] == "T(thumbnails/storyboard.jpg)#xywh=0,0,160,90"
    assert lines[6] == "../../outside.png"  # cannot resolve: left as it was, unsigned
    assert lines[9] == "a caption about photo.jpg and <b>bold</b>"
    assert lines[12] == "T(thumbnails/sprites/b.webp)"
    assert out.endswith("\n")
    assert len(lines) == len(text.splitlines())


def test_finalize_turns_event_into_vod() -> None:
    event = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:4.000000,\nseg_00000.ts\n#EXT-X-ENDLIST\n"
    )
    vod = hls.finalize_playlist(event)
    assert vod == event.replace("PLAYLIST-TYPE:EVENT", "PLAYLIST-TYPE:VOD")
    assert hls.finalize_playlist(vod) == vod  # idempotent
    assert hls.finalize_playlist("#EXTM3U\n") == "#EXTM3U\n"


def test_playlist_segments_are_the_uri_lines() -> None:
    text = "#EXTM3U\n#EXTINF:4.0,\nseg_00000.ts\n\n#EXTINF:4.0,\n  seg_00001.ts  \n#EXT-X-ENDLIST\n"
    assert hls.playlist_segments(text) == ["seg_00000.ts", "seg_00001.ts"]
    assert hls.playlist_segments("") == []
