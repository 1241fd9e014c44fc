"""Pure HLS playlist rewriting: every URI becomes its own signed token."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

_URI_ATTR = re.compile(r'URI="([^"]*)"')


def resolve(base_path: str, ref: str) -> str | None:
    """Resolve a playlist reference against the playlist's own path, inside the asset.
    Absolute URLs and references that climb out of the asset give None."""
    if "://" in ref or ref.startswith("/") or ref.startswith("data:"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(base_path), ref))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined


def rewrite_playlist(text: str, playlist_path: str, sign: Callable[[str], str]) -> str:
    """Replace every URI line and URI="..." attribute by sign(resolved path).

    sign returns the URL to put in place (relative to /stream/). References we cannot
    resolve inside the asset are dropped rather than passed through.
    """
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            out.append(line)
            continue
        if stripped.startswith("#"):

            def attr(m: re.Match[str]) -> str:
                target = resolve(playlist_path, m.group(1))
                return f'URI="{sign(target)}"' if target is not None else 'URI=""'

            out.append(_URI_ATTR.sub(attr, line))
            continue
        target = resolve(playlist_path, stripped)
        if target is None:
            continue
        out.append(sign(target))
    return "\n".join(out) + "\n"


_VTT_IMAGE = re.compile(
    r"^(?P<ref>[\w./-]+\.(?:jpg|jpeg|png|webp))(?P<frag>#xywh=\d+,\d+,\d+,\d+)?$"
)


def rewrite_vtt_images(text: str, vtt_path: str, sign: Callable[[str], str]) -> str:
    """Sign the image references of a WebVTT thumbnails track (`sprite.jpg#xywh=...`).
    Caption text is left alone: only whole lines that are an image reference change."""
    out: list[str] = []
    for line in text.splitlines():
        m = _VTT_IMAGE.match(line.strip())
        target = resolve(vtt_path, m.group("ref")) if m else None
        if m is None or target is None:
            out.append(line)
            continue
        out.append(sign(target) + (m.group("frag") or ""))
    return "\n".join(out) + "\n"


_HOLE = "\x00"


@dataclass(frozen=True)
class Template:
    """A playlist parsed once: literal text around the references to sign. Rendering is
    `parts[0] + sign(targets[0]) + parts[1] + ...`: only the signing is left per viewer."""

    parts: tuple[str, ...]
    targets: tuple[str, ...]

    def render(self, signed: list[str]) -> str:
        out = [self.parts[0]]
        for name, part in zip(signed, self.parts[1:], strict=True):
            out.append(name)
            out.append(part)
        return "".join(out)


def parse(text: str, path: str, *, vtt: bool = False) -> Template:
    """The Template of an HLS playlist (or, vtt=True, a WebVTT thumbnails track)."""
    targets: list[str] = []

    def hole(target: str) -> str:
        targets.append(target)
        return _HOLE

    rewrite = rewrite_vtt_images if vtt else rewrite_playlist
    parts = rewrite(text.replace(_HOLE, ""), path, hole).split(_HOLE)
    return Template(tuple(parts), tuple(targets))
