// Live status and progress through Socket.IO, as an integrator receives them: the
// client authenticates with the access token in its handshake (`auth: {token}`),
// then `subscribe`s to a project's or a video's room; the server pushes
// `asset-status` and `asset-progress` events ({asset_id, status, progress,
// eta_seconds, playable, error}).

import { accessToken } from "./api.js";
import { toast } from "./dom.js";

/**
 * @typedef {{type: string, asset_id: string, project_id: string, status: string,
 *   progress: number, eta_seconds: number | null, playable: boolean,
 *   error: {class: string, message: string} | null, event?: string}} AssetEvent
 * @typedef {(event: AssetEvent) => void} Listener
 */

/** @type {io.Socket | null} */
let socket = null;
/** room key ("project_id:..." or "asset_id:...") -> listeners */
/** @type {Map<string, Set<Listener>>} */
const rooms = new Map();
let warned = false;

/** Open the connection (the top bar shows whether it is live). */
export function connect() {
  if (socket) return socket;
  const s = io("/", {
    transports: ["websocket", "polling"],
    // A function: every (re)connection sends the token of the moment.
    auth: (cb) => cb({ token: accessToken() || "" }),
  });
  s.on("connect", () => {
    warned = false;
    document.body.dataset.realtime = "live";
    for (const key of rooms.keys()) void subscribe(s, key);
  });
  s.on("disconnect", () => {
    document.body.dataset.realtime = "offline";
  });
  s.on("connect_error", (/** @type {Error & {data?: {detail?: string}}} */ err) => {
    document.body.dataset.realtime = "offline";
    if (!warned) {
      warned = true;
      toast(`Live updates unavailable: ${err.data?.detail || err.message}; retrying`, "error");
    }
  });
  s.on("asset-status", (/** @type {AssetEvent} */ e) => dispatch(e));
  s.on("asset-progress", (/** @type {AssetEvent} */ e) => dispatch(e));
  socket = s;
  return s;
}

/** @param {AssetEvent} event */
function dispatch(event) {
  for (const key of [`project_id:${event.project_id}`, `asset_id:${event.asset_id}`]) {
    for (const fn of rooms.get(key) || []) fn(event);
  }
}

/**
 * @param {io.Socket} s
 * @param {string} key
 */
async function subscribe(s, key) {
  const [name, id] = key.split(":");
  try {
    const ack = await s.timeout(10_000).emitWithAck("subscribe", { [name]: id });
    if (ack && ack.ok === false) toast(`Live updates refused: ${ack.detail}`, "error");
  } catch {
    // No ack in time: the next reconnection subscribes again.
  }
}

/**
 * Listen to a project's (or one video's) events until the returned function is called.
 * @param {"project_id" | "asset_id"} kind
 * @param {string} id
 * @param {Listener} fn
 * @returns {() => void}
 */
export function watch(kind, id, fn) {
  const s = connect();
  const key = `${kind}:${id}`;
  let set = rooms.get(key);
  if (!set) {
    set = new Set();
    rooms.set(key, set);
    if (s.connected) void subscribe(s, key);
  }
  set.add(fn);
  return () => {
    const listeners = rooms.get(key);
    if (!listeners) return;
    listeners.delete(fn);
    if (listeners.size === 0) {
      rooms.delete(key);
      if (s.connected) s.emit("unsubscribe", { [kind]: id });
    }
  };
}

/** Close the connection (sign out). */
export function closeRealtime() {
  rooms.clear();
  socket?.disconnect();
  socket = null;
}
