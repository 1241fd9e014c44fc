// Playback events of one view: what happened, when (epoch ms), where in the video
// (player_time, s) and at which rendition and bitrate. Batches go to beacons.send on
// every heartbeat (10 s) and when the page goes away (view_end).

import { send } from "./beacons.js";

export const HEARTBEAT_MS = 10_000;
const VIEWER_KEY = "streamcore.viewer_id";
const LOG_SIZE = 500;

/** @returns {string} */
function randomId() {
  if (typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The viewer's id: random, kept in localStorage; a frame that may not use storage
 * (third-party storage blocked) gets one for this page only.
 * @returns {string}
 */
export function viewerId() {
  try {
    const known = localStorage.getItem(VIEWER_KEY);
    if (known) {
      return known;
    }
    const fresh = randomId();
    localStorage.setItem(VIEWER_KEY, fresh);
    return fresh;
  } catch {
    return randomId();
  }
}

export class ViewTracker {
  /**
   * @param {HTMLVideoElement} video
   * @param {{ token: string, endpoint: string | null }} target
   */
  constructor(video, target) {
    this.video = video;
    this.target = target;
    this.viewId = randomId();
    this.viewerId = viewerId();
    /** @type {string | null} */
    this.rendition = null;
    /** @type {number | null} */
    this.bitrate = null;
    /** @type {StreamcorePlayer.PlaybackEvent[]} */
    this.queue = [];
    /** Every event of the view (the last LOG_SIZE), for whoever inspects the player.
     * @type {StreamcorePlayer.PlaybackEvent[]} */
    this.log = [];
    this.batches = 0;
  }

  /**
   * @param {string} type
   * @param {{ duration_ms?: number, error_code?: string }} [extra]
   * @returns {StreamcorePlayer.PlaybackEvent}
   */
  record(type, extra = {}) {
    /** @type {StreamcorePlayer.PlaybackEvent} */
    const event = {
      type,
      view_id: this.viewId,
      viewer_id: this.viewerId,
      at: Date.now(),
      player_time: Math.round((this.video.currentTime || 0) * 1000) / 1000,
      rendition: this.rendition,
      bitrate: this.bitrate,
      ...extra,
    };
    this.queue.push(event);
    this.log.push(event);
    if (this.log.length > LOG_SIZE) {
      this.log.shift();
    }
    return event;
  }

  /** @param {boolean} [final] */
  flush(final = false) {
    if (this.queue.length === 0) {
      return;
    }
    const batch = this.queue.splice(0);
    this.batches += 1;
    send(batch, { ...this.target, final });
  }
}

/**
 * Turn the video element's and hls.js's events into playback events.
 * @param {ViewTracker} tracker
 * @param {HTMLVideoElement} video
 * @param {StreamcorePlayer.Hls | null} hls
 * @param {StreamcorePlayer.HlsClass | null} Hls
 */
export function watch(tracker, video, hls, Hls) {
  /** @type {number | null} */
  let startedAt = null;
  let firstFrame = false;
  /** @type {number | null} */
  let stalledAt = null;
  let ended = false;

  video.addEventListener("play", () => {
    if (startedAt === null) {
      startedAt = performance.now();
      tracker.record("view_start");
    }
  });
  video.addEventListener("playing", () => {
    if (startedAt !== null && !firstFrame) {
      firstFrame = true;
      tracker.record("first_frame", { duration_ms: Math.round(performance.now() - startedAt) });
    }
    if (stalledAt !== null) {
      tracker.record("rebuffer_end", { duration_ms: Math.round(performance.now() - stalledAt) });
      stalledAt = null;
    }
    tracker.record("playing");
  });
  video.addEventListener("pause", () => {
    if (!video.ended) {
      tracker.record("pause");
    }
  });
  video.addEventListener("seeked", () => {
    if (startedAt !== null) {
      tracker.record("seek");
    }
  });
  video.addEventListener("waiting", () => {
    // Buffering after a seek is the seek's; a stall while playing is a rebuffer.
    if (firstFrame && !video.seeking && stalledAt === null) {
      stalledAt = performance.now();
      tracker.record("rebuffer_start");
    }
  });
  video.addEventListener("error", () => {
    const code = video.error ? `media_error_${video.error.code}` : "media_error";
    tracker.record("error", { error_code: code });
  });

  if (hls && Hls) {
    hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
      const level = hls.levels[data.level];
      if (!level) {
        return;
      }
      tracker.rendition = level.height ? `${level.height}p` : (level.name ?? String(data.level));
      tracker.bitrate = level.bitrate;
      tracker.record("rendition_change");
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) {
        tracker.record("error", { error_code: `${data.type}:${data.details}` });
      }
    });
  }

  setInterval(() => {
    if (startedAt !== null && !video.paused && !ended) {
      tracker.record("heartbeat");
    }
    tracker.flush();
  }, HEARTBEAT_MS);

  window.addEventListener("pagehide", () => {
    if (startedAt !== null && !ended) {
      ended = true;
      tracker.record("view_end");
    }
    tracker.flush(true);
  });
}
