// The player on the video page, behind one small interface ({el, seek, destroy}):
// the embeddable player in an <iframe> when the server gives the video an `embed_url`,
// else an hls.js <video> on the signed playback URL. The embed is served by the same
// server, so seeking reaches into the frame's <video>; a frame of another origin is
// sent a `streamcore:seek` message instead.

/**
 * @typedef {{el: HTMLElement, seek: (seconds: number) => void, destroy: () => void,
 *   media: HTMLVideoElement | null}} Player
 */

/**
 * @param {import("./videos.js").Video} video
 * @param {string | null} poster
 * @returns {Player}
 */
export function createPlayer(video, poster) {
  if (video.embed_url) return iframePlayer(video.embed_url);
  return hlsPlayer(/** @type {string} */ (video.playback_url), poster);
}

/** @param {string} url @returns {Player} */
function iframePlayer(url) {
  const frame = /** @type {HTMLIFrameElement} */ (document.createElement("iframe"));
  frame.src = url;
  frame.className = "player-frame";
  frame.allow = "autoplay; fullscreen; picture-in-picture";
  frame.allowFullscreen = true;
  frame.title = "Video player";
  const origin = new URL(url, location.href).origin;
  return {
    el: frame,
    media: null,
    seek: (seconds) => {
      const media = frameMedia(frame);
      if (media) {
        media.currentTime = seconds;
        void media.play().catch(() => undefined);
      } else {
        frame.contentWindow?.postMessage({ type: "streamcore:seek", time: seconds }, origin);
      }
    },
    destroy: () => frame.remove(),
  };
}

/**
 * The frame's <video>, when the frame is of this origin.
 * @param {HTMLIFrameElement} frame
 * @returns {HTMLVideoElement | null}
 */
function frameMedia(frame) {
  try {
    return frame.contentDocument?.querySelector("video") || null;
  } catch {
    return null; // another origin
  }
}

/** @param {string} url @param {string | null} poster @returns {Player} */
function hlsPlayer(url, poster) {
  const media = /** @type {HTMLVideoElement} */ (document.createElement("video"));
  media.controls = true;
  media.playsInline = true;
  media.className = "player-video";
  if (poster) media.poster = poster;
  /** @type {Hls | null} */
  let hls = null;
  if (media.canPlayType("application/vnd.apple.mpegurl") && !window.Hls) {
    media.src = url;
  } else if (window.Hls && Hls.isSupported()) {
    hls = new Hls({ enableWorker: true });
    hls.loadSource(url);
    hls.attachMedia(media);
  } else {
    media.src = url;
  }
  return {
    el: media,
    media,
    seek: (seconds) => {
      media.currentTime = seconds;
      void media.play().catch(() => undefined);
    },
    destroy: () => {
      hls?.destroy();
      media.removeAttribute("src");
      media.load();
    },
  };
}
