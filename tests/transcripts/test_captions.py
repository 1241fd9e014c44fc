from __future__ import annotations

import pytest

from streamcore.transcripts import captions

MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=1000,RESOLUTION=640x360,CODECS="avc1.42c01e,mp4a.40.2"
360p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=500,RESOLUTION=426x240,CODECS="avc1.42c015,mp4a.40.2"
240p/index.m3u8
"""


def test_master_gets_a_subtitles_group_referenced_by_every_variant() -> None:
    out = captions.add_subtitles(MASTER, uri="subs/en.m3u8", language="en", name="English")
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
    once = captions.add_subtitles(MASTER, uri="subs/en.m3u8", language="en", name="English")
    twice = captions.add_subtitles(once, uri="subs/de.m3u8", language="de", name="German")
    assert twice.count("#EXT-X-MEDIA:") == 1
    assert 'URI="subs/de.m3u8"' in twice
    assert twice.count('SUBTITLES="subs"') == 2


def test_unknown_language_leaves_out_the_attribute() -> None:
    out = captions.add_subtitles(MASTER, uri="subs/und.m3u8", language=None, name="Unknown")
    assert "LANGUAGE=" not in out


def test_master_without_variants_is_an_error() -> None:
    with pytest.raises(ValueError, match="no variant"):
        captions.add_subtitles("#EXTM3U\n", uri="x", language="en", name="English")


def test_subtitle_playlist_covers_the_duration() -> None:
    text = captions.subtitle_playlist("en.vtt", 10.2)
    assert "#EXT-X-TARGETDURATION:11\n" in text
    assert "#EXTINF:10.200,\nen.vtt\n" in text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")


def test_first_segment_and_mpegts_offset() -> None:
    assert captions.first_segment(MASTER) == "360p/index.m3u8"
    assert captions.first_segment("#EXTM3U\n") is None
    probe = {"streams": [{"start_time": "1.446444"}, {"start_time": "1.400000"}, {}]}
    assert captions.mpegts_offset(probe) == 126000
    assert captions.mpegts_offset({"streams": []}) is None
