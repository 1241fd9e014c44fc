"""The HTML of the embed pages: the player (media-chrome around a video element that
hls.js feeds, set up by /static/js/player/main.js) and the message page shown instead
of a broken player. Every value put into the HTML is escaped; the player's settings
travel as JSON in a script element that is data, not code."""

from __future__ import annotations

import json
from html import escape
from typing import Any

STATIC = "/static"

PLAYER = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="{static}/css/player.css">
<script src="{static}/vendor/hls.min.js" defer></script>
<script src="{static}/js/player/main.js" type="module"></script>
<script src="{static}/vendor/media-chrome-all.js" defer></script>
</head>
<body class="player-page">
<script id="player-config" type="application/json">{config}</script>
<media-controller id="player" class="player" hotkeys="" defaultstreamtype="on-demand"
  autohide="2" lang="en">
  <video id="video" slot="media" playsinline crossorigin="anonymous" preload="metadata"
    {poster}></video>
  <div slot="top-chrome" class="player-title" title="{title}">{title}</div>
  <media-loading-indicator slot="centered-chrome" loadingdelay="300"></media-loading-indicator>
  <media-play-button slot="centered-chrome" class="big-play"></media-play-button>
  <div slot="centered-chrome" id="player-error" class="player-error" role="alert" hidden>
    <strong>Playback failed</strong><span id="player-error-detail"></span>
  </div>
  <media-control-bar class="timeline">
    <media-time-range id="timeline">
      <media-preview-thumbnail slot="preview"></media-preview-thumbnail>
      <media-preview-time-display slot="preview"></media-preview-time-display>
    </media-time-range>
  </media-control-bar>
  <media-control-bar class="controls">
    <media-play-button></media-play-button>
    <media-mute-button></media-mute-button>
    <media-volume-range></media-volume-range>
    <media-time-display showduration></media-time-display>
    <span class="spacer"></span>
    <media-captions-button class="wide-only"></media-captions-button>
    <media-settings-menu-button id="settings-button"></media-settings-menu-button>
    <media-pip-button class="wide-only"></media-pip-button>
    <media-fullscreen-button></media-fullscreen-button>
  </media-control-bar>
  <!-- After the control bars, so it is drawn over them. -->
  <media-settings-menu id="settings" hidden anchor="auto">
    <media-settings-menu-item id="speed-item">Speed
      <media-playback-rate-menu slot="submenu" hidden rates="0.5 0.75 1 1.25 1.5 2">
        <div slot="title">Speed</div>
      </media-playback-rate-menu>
    </media-settings-menu-item>
    <media-settings-menu-item id="quality-item">Quality
      <media-rendition-menu id="quality-menu" slot="submenu" hidden>
        <div slot="title">Quality</div>
      </media-rendition-menu>
    </media-settings-menu-item>
    <media-settings-menu-item id="captions-item">Captions
      <media-captions-menu id="captions-menu" slot="submenu" hidden>
        <div slot="title">Captions</div>
      </media-captions-menu>
    </media-settings-menu-item>
  </media-settings-menu>
</media-controller>
</body>
</html>
"""

MESSAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="{static}/css/player.css">
</head>
<body class="message-page">
<main class="message" role="alert">
  <svg class="message-icon" viewBox="0 0 24 24" aria-hidden="true">
    <rect x="2.5" y="5" width="19" height="14" rx="3" fill="none" stroke="currentColor"
      stroke-width="1.6"/>
    <path d="M4 4l16 16" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>
  </svg>
  <h1>{title}</h1>
  <p>{detail}</p>
</main>
</body>
</html>
"""


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no `</script>` or `<!--` can appear."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def player_page(config: dict[str, Any]) -> str:
    poster = config.get("poster")
    return PLAYER.format(
        static=STATIC,
        title=escape(str(config.get("title") or "Video")),
        config=script_json(config),
        poster=f'poster="{escape(poster)}"' if poster else "",
    )


def message_page(title: str, detail: str) -> str:
    return MESSAGE.format(static=STATIC, title=escape(title), detail=escape(detail))
