// Types of the embed player's globals, in a namespace of their own: the player reads
// hls.js from `window.Hls` (vendor/hls.min.js) with the types hls.js ships.

declare namespace StreamcorePlayer {
  type HlsClass = typeof import("hls.js").default;
  type Hls = import("hls.js").default;
  type Level = import("hls.js").Level;
  type ErrorData = import("hls.js").ErrorData;
  type LevelSwitchedData = import("hls.js").LevelSwitchedData;
  type ManifestParsedData = import("hls.js").ManifestParsedData;

  /** The page's settings (the JSON in #player-config, written by web/embed.py). */
  interface Config {
    token: string;
    src: string;
    title: string;
    duration: number | null;
    aspect: [number, number] | null;
    poster: string | null;
    thumbnails: string | null;
    captions: { lang: string; label: string; src: string }[];
    expires_at: number;
    beacons: string | null;
  }

  /** Query-string options of /embed/{token}. */
  interface Options {
    autoplay: boolean;
    muted: boolean;
    start: number;
    captions: string | null;
  }

  /** One playback event, as POST /analytics/events takes them in `events`. */
  interface PlaybackEvent {
    type: string;
    view_id: string;
    viewer_id: string;
    at: number;
    player_time: number;
    rendition: string | null;
    bitrate: number | null;
    duration_ms?: number;
    error_code?: string;
  }

  /** A rendition as media-chrome's rendition menu reads `media.videoRenditions`. */
  interface Rendition {
    id: string;
    width: number;
    height: number;
    bitrate: number;
    codec?: string;
  }
}
