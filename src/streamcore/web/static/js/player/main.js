// The embed player: hls.js feeds the video element, media-chrome draws the controls.
// This module runs before media-chrome's script (see web/pages.py) so the video
// element already carries `videoRenditions` when the media controller attaches to it.

import { ViewTracker, watch } from "./events.js";
import { HlsRenditionList } from "./renditions.js";

/** @returns {StreamcorePlayer.Config} */
function readConfig() {
  const node = document.getElementById("player-config");
  return JSON.parse(node?.textContent || "{}");
}

/**
 * `autoplay`, `muted` (present, 1 or true), `start` (seconds), `captions` (a language).
 * Values that make no sense are ignored.
 * @param {string} search
 * @returns {StreamcorePlayer.Options}
 */
export function readOptions(search) {
  const params = new URLSearchParams(search);
  /** @param {string} name */
  const flag = (name) => {
    const value = params.get(name);
    return value !== null && ["", "1", "true", "yes"].includes(value.toLowerCase());
  };
  const start = Number(params.get("start") ?? "0");
  const captions = (params.get("captions") || "").trim().toLowerCase();
  return {
    autoplay: flag("autoplay"),
    muted: flag("muted"),
    start: Number.isFinite(start) && start > 0 ? start : 0,
    captions: /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/.test(captions) ? captions : null,
  };
}

/**
 * Words for a failure the viewer can act on (or at least understand).
 * @param {StreamcorePlayer.Config} config
 * @param {number | undefined} status
 * @returns {string}
 */
function failureText(config, status) {
  if (status === 403 || Date.now() / 1000 > config.expires_at) {
    return "This player link has expired. Ask for a new one.";
  }
  if (status === 404) {
    return "This video is no longer available.";
  }
  if (status !== undefined && status >= 500) {
    return "The video server is having trouble. Try again in a moment.";
  }
  return "The video could not be played. Check your connection and try again.";
}

/** @param {string} text */
function showError(text) {
  const box = document.getElementById("player-error");
  const detail = document.getElementById("player-error-detail");
  if (box && detail) {
    detail.textContent = text;
    box.hidden = false;
  }
}

/**
 * Show the captions of `lang` (hls.js's subtitle rendition, or a <track> we added).
 * @param {HTMLVideoElement} video
 * @param {string} lang
 */
function showCaptions(video, lang) {
  for (const track of Array.from(video.textTracks)) {
    if (track.kind !== "subtitles" && track.kind !== "captions") {
      continue;
    }
    const language = (track.language || "").toLowerCase();
    const match = language === lang || language.split("-")[0] === lang.split("-")[0];
    track.mode = match ? "showing" : "disabled";
  }
}

/**
 * The transcript's captions as <track> elements, for a master without a SUBTITLES group.
 * @param {HTMLVideoElement} video
 * @param {StreamcorePlayer.Config} config
 */
function addCaptionTracks(video, config) {
  for (const caption of config.captions) {
    const track = document.createElement("track");
    track.kind = "subtitles";
    track.srclang = caption.lang;
    track.label = caption.label;
    track.src = caption.src;
    video.appendChild(track);
  }
}

/**
 * The storyboard as the WebVTT thumbnails track media-chrome's preview reads. Added
 * once hls.js has attached: it clears the cues of every text track it finds then.
 * @param {HTMLVideoElement} video
 * @param {StreamcorePlayer.Config} config
 */
function addThumbnailsTrack(video, config) {
  if (!config.thumbnails || video.querySelector('track[label="thumbnails"]')) {
    return;
  }
  const track = document.createElement("track");
  track.kind = "metadata";
  track.label = "thumbnails";
  track.default = true;
  track.src = config.thumbnails;
  video.appendChild(track);
  track.track.mode = "hidden";
}

/**
 * Start playing as asked: with sound if the browser lets us, else muted.
 * @param {HTMLVideoElement} video
 */
function autoplay(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {
      // The browser wants a click: the big play button is there for it.
    });
  });
}

/**
 * @param {HTMLVideoElement} video
 * @param {StreamcorePlayer.Config} config
 * @param {StreamcorePlayer.Options} options
 * @param {StreamcorePlayer.HlsClass} Hls
 * @returns {StreamcorePlayer.Hls}
 */
function startHls(video, config, options, Hls) {
  const hls = new Hls({
    startPosition: options.start || -1,
    capLevelToPlayerSize: true,
    renderTextTracksNatively: true,
  });
  Object.defineProperty(video, "videoRenditions", {
    value: new HlsRenditionList(Hls, hls),
    configurable: true,
  });
  let recovered = false;
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    addThumbnailsTrack(video, config);
    if (hls.subtitleTracks.length === 0 && config.captions.length) {
      addCaptionTracks(video, config);
      if (options.captions) {
        showCaptions(video, options.captions);
      }
    }
    if (options.autoplay) {
      autoplay(video);
    }
  });
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_event, data) => {
    const lang = options.captions;
    if (!lang) {
      return;
    }
    const index = data.subtitleTracks.findIndex(
      (t) => (t.lang || "").toLowerCase().split("-")[0] === lang.split("-")[0],
    );
    if (index >= 0) {
      hls.subtitleDisplay = true;
      hls.subtitleTrack = index;
    }
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) {
      return;
    }
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;
      hls.recoverMediaError();
      return;
    }
    showError(failureText(config, data.response?.code));
    hls.destroy();
  });
  hls.loadSource(config.src);
  hls.attachMedia(video);
  return hls;
}

/**
 * Safari and iOS play HLS themselves (no MSE needed); renditions are theirs to pick.
 * @param {HTMLVideoElement} video
 * @param {StreamcorePlayer.Config} config
 * @param {StreamcorePlayer.Options} options
 */
function startNative(video, config, options) {
  addCaptionTracks(video, config);
  addThumbnailsTrack(video, config);
  video.addEventListener(
    "loadedmetadata",
    () => {
      if (options.start) {
        video.currentTime = options.start;
      }
      if (options.captions) {
        showCaptions(video, options.captions);
      }
      if (options.autoplay) {
        autoplay(video);
      }
    },
    { once: true },
  );
  video.addEventListener("error", () => showError(failureText(config, undefined)));
  video.src = config.src;
}

function main() {
  const config = readConfig();
  const options = readOptions(location.search);
  const video = /** @type {HTMLVideoElement | null} */ (document.getElementById("video"));
  if (!video || !config.src) {
    return;
  }
  video.muted = options.muted;
  const Hls = /** @type {StreamcorePlayer.HlsClass | undefined} */ (
    /** @type {any} */ (window).Hls
  );
  /** @type {StreamcorePlayer.Hls | null} */
  let hls = null;
  if (Hls && Hls.isSupported()) {
    hls = startHls(video, config, options, Hls);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    startNative(video, config, options);
  } else {
    showError("This browser cannot play this video (no HLS or Media Source support).");
  }
  const tracker = new ViewTracker(video, { token: config.token, endpoint: config.beacons });
  watch(tracker, video, hls, Hls ?? null);
  // For integrators and tests: the player's parts, read-only by convention.
  Object.defineProperty(window, "streamcorePlayer", {
    value: Object.freeze({ video, hls, tracker, config, options }),
  });
}

main();
