// The public HTTP API, as an integrator calls it: bearer tokens from /auth/login, kept
// in localStorage, refreshed silently a minute before they expire (and once more when
// an answer says 401), and every error answer turned into an ApiError in words.

const STORE = "streamcore.console.auth";
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

/**
 * @typedef {{access_token: string, refresh_token: string, expires_at: number}} Tokens
 */

/** An error answer of the API ({"error", "detail"}) or a network failure, in words. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: no answer at all)
   * @param {string} error the error class the API names (NotFound, Forbidden ...)
   * @param {string} detail what went wrong, in words
   */
  constructor(status, error, detail) {
    super(detail ? `${detail}` : error);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }
}

/** @type {Tokens | null} */
let tokens = load();
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
/** @type {Promise<boolean> | null} */
let refreshing = null;
/** @type {Set<() => void>} */
const signedOutListeners = new Set();
/** @type {Set<() => void>} */
const refreshedListeners = new Set();

/** @returns {Tokens | null} */
function load() {
  try {
    const raw = localStorage.getItem(STORE);
    return raw ? /** @type {Tokens} */ (JSON.parse(raw)) : null;
  } catch {
    return null;
  }
}

/** @param {{access_token: string, refresh_token: string, expires_in: number}} body */
function store(body) {
  tokens = {
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    expires_at: Date.now() + body.expires_in * 1000,
  };
  localStorage.setItem(STORE, JSON.stringify(tokens));
  schedule();
}

function schedule() {
  clearTimeout(timer);
  if (!tokens) return;
  // setTimeout holds at most ~24.8 days; a later expiry is rescheduled on the way.
  const wait = Math.min(Math.max(tokens.expires_at - Date.now() - EARLY_MS, 0), 2 ** 31 - 1);
  timer = setTimeout(() => void refresh(), wait);
}

/** @returns {string | null} the current access token */
export function accessToken() {
  return tokens ? tokens.access_token : null;
}

/** @returns {boolean} */
export function signedIn() {
  return tokens !== null;
}

/** @param {() => void} fn called when the session ends (sign out, refresh refused) */
export function onSignedOut(fn) {
  signedOutListeners.add(fn);
}

/** @param {() => void} fn called with each new access token */
export function onRefreshed(fn) {
  refreshedListeners.add(fn);
}

/**
 * Trade the refresh token for a new pair (one request at a time).
 * @returns {Promise<boolean>} whether the session goes on
 */
export function refresh() {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh() {
  if (!tokens) return false;
  let resp;
  try {
    resp = await fetch("/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
  } catch {
    // The network is down: try again shortly, the session is not over.
    timer = setTimeout(() => void refresh(), 10_000);
    return false;
  }
  if (resp.ok) {
    store(await resp.json());
    for (const fn of refreshedListeners) fn();
    return true;
  }
  end();
  return false;
}

function end() {
  clearTimeout(timer);
  tokens = null;
  localStorage.removeItem(STORE);
  for (const fn of signedOutListeners) fn();
}

/**
 * @param {string} email
 * @param {string} password
 */
export async function signIn(email, password) {
  const body = await request("POST", "/auth/login", { email, password }, { anonymous: true });
  store(body);
}

export async function signOut() {
  if (tokens) {
    try {
      await request("POST", "/auth/logout", { refresh_token: tokens.refresh_token });
    } catch {
      // The token may already be gone; signing out locally is what matters.
    }
  }
  end();
}

/**
 * An error answer in words.
 * @param {Response} resp
 * @returns {Promise<ApiError>}
 */
async function errorOf(resp) {
  let error = resp.statusText || `HTTP ${resp.status}`;
  let detail = "";
  try {
    const body = await resp.json();
    if (body && typeof body === "object") {
      error = String(body.error || error);
      detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
    }
  } catch {
    detail = `the server answered ${resp.status} ${resp.statusText}`;
  }
  return new ApiError(resp.status, error, detail || error);
}

/**
 * Call the API. JSON in and out; 204 gives null.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{anonymous?: boolean, retried?: boolean}} [opts]
 * @returns {Promise<any>}
 */
export async function request(method, path, body, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!opts.anonymous && tokens) headers.Authorization = `Bearer ${tokens.access_token}`;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, "NetworkError", `the server cannot be reached (${String(exc)})`);
  }
  if (resp.status === 401 && !opts.anonymous && !opts.retried && tokens) {
    if (await refresh()) return request(method, path, body, { ...opts, retried: true });
  }
  if (!resp.ok) throw await errorOf(resp);
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

/**
 * A query string of the set values (arrays repeat the key).
 * @param {Record<string, string | string[] | number | boolean | null | undefined>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(key, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = {
  /** @param {string} path */
  get: (path) => request("GET", path),
  /** @param {string} path @param {unknown} [body] */
  post: (path, body) => request("POST", path, body),
  /** @param {string} path @param {unknown} body */
  patch: (path, body) => request("PATCH", path, body),
  /** @param {string} path */
  del: (path) => request("DELETE", path),
};

schedule();
