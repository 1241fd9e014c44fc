// Playback analytics in the console: a project's numbers and top videos over a chosen
// period (/console/analytics), and a video's numbers on its page. Both read
// GET /analytics, which answers from the hourly rollups.

import { api } from "./api.js";
import { empty, fill, h, pageHead, showError } from "./dom.js";
import { formatBytes, formatDuration } from "../format.js";

/**
 * @typedef {{ views: number, unique_viewers: number | null, watch_time_seconds: number,
 *   startup_time_p50_ms: number | null, startup_time_p95_ms: number | null,
 *   rebuffer_percentage: number | null, failure_percentage: number | null,
 *   exits_before_start: number, bytes_served: number }} Metrics
 * @typedef {Metrics & { key: string }} Group
 * @typedef {{ totals: Metrics, groups: Group[] }} Report
 */

/** [label, days] of the period picker. */
const PERIODS = /** @type {const} */ ([["Last 24 hours", 1], ["Last 7 days", 7], ["Last 30 days", 30], ["Last 90 days", 90]]);

/**
 * GET /analytics over the last `days` days.
 * @param {Record<string, string>} scope project_id or video_id (and group_by)
 * @param {number} days
 * @returns {Promise<Report>}
 */
export function fetchReport(scope, days) {
  const to = new Date();
  const from = new Date(to.getTime() - days * 86_400_000);
  const query = new URLSearchParams({
    ...scope,
    from: from.toISOString(),
    to: to.toISOString(),
    interval: days <= 2 ? "hour" : "day",
  });
  return api.get(`/analytics?${query}`);
}

/** @param {number | null} ms */
const millis = (ms) => (ms == null ? "—" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
/** @param {number | null} p */
const percent = (p) => (p == null ? "—" : `${p.toFixed(1)} %`);

/**
 * The numbers of a report as a row of tiles.
 * @param {Metrics} m
 */
export function metricTiles(m) {
  /** @type {[string, string][]} */
  const tiles = [
    ["Views", String(m.views)],
    ["Unique viewers", m.unique_viewers == null ? "—" : String(m.unique_viewers)],
    ["Watch time", formatDuration(m.watch_time_seconds)],
    ["Startup p50", millis(m.startup_time_p50_ms)],
    ["Startup p95", millis(m.startup_time_p95_ms)],
    ["Rebuffering", percent(m.rebuffer_percentage)],
    ["Failures", percent(m.failure_percentage)],
    ["Exits before start", String(m.exits_before_start)],
    ["Delivered", formatBytes(m.bytes_served)],
  ];
  return h("div.tiles", tiles.map(([label, value]) => h("div.tile", h("small", label), h("strong", value))));
}

/**
 * A video's numbers over the last 30 days, for its page.
 * @param {HTMLElement} box
 * @param {string} videoId
 */
export async function renderVideoAnalytics(box, videoId) {
  fill(box, h("h2", "Analytics"), h("p.muted", "Loading…"));
  try {
    const report = await fetchReport({ video_id: videoId }, 30);
    fill(box, h("h2", "Analytics"), h("p.muted", "Last 30 days, from the player's beacons"), metricTiles(report.totals));
  } catch (exc) {
    fill(box, h("h2", "Analytics"), h("p.muted", "Could not load the numbers."));
    showError(exc, "Loading analytics");
  }
}

/** @param {import("./app.js").Ctx} ctx */
export async function renderAnalytics(ctx) {
  const project = /** @type {{ id: string, name: string }} */ (ctx.project);
  const picker = /** @type {HTMLSelectElement} */ (
    h("select#period", { "aria-label": "Period" }, PERIODS.map(([label, days]) => h("option", { value: String(days), selected: days === 7 }, label)))
  );
  const body = h("div#analytics");
  fill(ctx.main, pageHead("Analytics", `Project ${project.name}`, picker), body);

  async function load() {
    const days = Number(picker.value);
    fill(body, h("p.muted", "Loading…"));
    try {
      const report = await fetchReport({ project_id: project.id, group_by: "video" }, days);
      const top = [...report.groups].sort((a, b) => b.views - a.views || b.watch_time_seconds - a.watch_time_seconds).slice(0, 10);
      const titles = await Promise.all(top.map((g) => api.get(`/videos/${g.key}`).then((v) => v.title || v.filename, () => g.key)));
      const table = top.length
        ? h("table.table#top-videos",
          h("thead", h("tr", ["Video", "Views", "Unique", "Watch time", "Startup p50", "Rebuffering"].map((t) => h("th", t)))),
          h("tbody", top.map((g, i) => h("tr",
            h("td", h("a", { href: `/console/videos/${g.key}` }, titles[i])),
            h("td", String(g.views)),
            h("td", g.unique_viewers == null ? "—" : String(g.unique_viewers)),
            h("td", formatDuration(g.watch_time_seconds)),
            h("td", millis(g.startup_time_p50_ms)),
            h("td", percent(g.rebuffer_percentage))))))
        : empty("No views in this period", "Numbers appear here a minute after someone watches a video of this project.");
      fill(body, h("section.card", metricTiles(report.totals)), h("section.card", h("h2", "Top videos"), h("div.scroll-x", table)));
    } catch (exc) {
      fill(body, h("p.muted", "Could not load the numbers."));
      showError(exc, "Loading analytics");
    }
  }
  picker.addEventListener("change", () => void load());
  await load();
}
