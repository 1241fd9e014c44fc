// The one seam between the player and playback analytics. The player hands every
// batch of events to send(); until the analytics endpoint exists (the page's config
// has `beacons: null`) nothing leaves the page.

/**
 * Send a batch of playback events as `POST {endpoint}` with `{"token", "events"}`.
 * The last batch of a view (final) goes with navigator.sendBeacon, which survives the
 * page being closed.
 * @param {StreamcorePlayer.PlaybackEvent[]} events
 * @param {{ endpoint: string | null, token: string, final?: boolean }} target
 * @returns {boolean} whether the batch was handed to the browser
 */
export function send(events, target) {
  if (!target.endpoint || events.length === 0) {
    return false;
  }
  const body = JSON.stringify({ token: target.token, events });
  if (target.final && typeof navigator.sendBeacon === "function") {
    return navigator.sendBeacon(target.endpoint, new Blob([body], { type: "application/json" }));
  }
  fetch(target.endpoint, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
    keepalive: true,
  }).catch(() => {
    // A lost beacon is not worth interrupting playback for.
  });
  return true;
}
