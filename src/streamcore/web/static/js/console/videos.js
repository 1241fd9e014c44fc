// The video library of the current project: filters (status, text, source, created
// range), cursor pagination ("Load more"), uploads, URL import, and live status and
// progress from Socket.IO (no reload).

import { api, query } from "./api.js";
import { badge, empty, fill, h, pageHead, progressBar, showError, when } from "./dom.js";
import { watch } from "./realtime.js";
import { importForm, uploadPanel } from "./upload.js";
import { formatBytes, formatDuration } from "../format.js";

export const STATUSES = ["awaiting_upload", "uploaded", "ingesting", "transcoding", "retrying", "ready", "failed", "cancelled", "deleting"];
const SOURCES = ["upload", "url", "recording"];
const PAGE = 25;
/** Statuses with a job at work: a progress bar instead of the plain badge. */
export const WORKING = new Set(["uploaded", "ingesting", "transcoding", "retrying"]);

/**
 * @typedef {{id: string, project_id: string, title: string | null, description: string | null,
 *   filename: string, status: string, progress: number, eta_seconds: number | null,
 *   size_bytes: number | null, source: string, playable: boolean, playback_url: string | null,
 *   embed_url?: string | null, embed_html?: string | null,
 *   probe: {duration: number | null, width: number | null, height: number | null,
 *     video_codec: string | null, audio_codec: string | null, bitrate: number | null,
 *     frame_rate: number | null, container: string | null},
 *   renditions: {name: string, width: number, height: number, video_kbps: number, audio_kbps: number}[],
 *   derivatives: {mp3: string | null, mp4: string | null, posters: Record<string, string | null>,
 *     storyboard: string | null, storyboard_vtt: string | null},
 *   error: {class: string, message: string} | null,
 *   transcript: {status: string, language: string | null, json_url: string | null,
 *     text_url: string | null, vtt_url: string | null, error: {class: string, message: string} | null},
 *   created_at: string, updated_at: string}} Video
 */

/** @param {Video} v */
export function posterOf(v) {
  const entries = Object.entries(v.derivatives?.posters || {}).filter(([, url]) => url);
  entries.sort((a, b) => Number(a[0]) - Number(b[0]));
  return entries.length ? /** @type {string} */ (entries[0][1]) : null;
}

/**
 * The status cell: a badge, and a progress bar with the ETA while a job works.
 * @param {Pick<Video, "status" | "progress" | "eta_seconds" | "error">} v
 */
export function statusCell(v) {
  const cell = h("div.statuscell", badge(v.status));
  if (WORKING.has(v.status)) {
    const eta = v.eta_seconds ? ` · ${formatDuration(v.eta_seconds)} left` : "";
    cell.append(progressBar(v.progress, `${v.progress.toFixed(0)} %${eta}`));
  } else if (v.error) {
    cell.append(h("small.error-text", v.error.class));
  }
  return cell;
}

/** @param {import("./app.js").Ctx} ctx */
export async function renderVideos(ctx) {
  const project = /** @type {import("./app.js").Project} */ (ctx.project);
  const tbody = h("tbody");
  const tableBox = h("div");
  const more = h("button.btn#load-more", { type: "button", hidden: true }, "Load more");
  /** @type {string | null} */
  let cursor = null;
  /** @type {Map<string, HTMLElement>} */
  const rows = new Map();

  const q = /** @type {HTMLInputElement} */ (h("input", { type: "search", name: "q", placeholder: "Search title or filename", "aria-label": "Search" }));
  const status = /** @type {HTMLSelectElement} */ (h("select", { name: "status", "aria-label": "Status" }, h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { value: s }, s.replace(/_/g, " ")))));
  const source = /** @type {HTMLSelectElement} */ (h("select", { name: "source", "aria-label": "Source" }, h("option", { value: "" }, "Any source"), SOURCES.map((s) => h("option", { value: s }, s))));
  const after = /** @type {HTMLInputElement} */ (h("input", { type: "date", name: "created_after", "aria-label": "Created after" }));
  const before = /** @type {HTMLInputElement} */ (h("input", { type: "date", name: "created_before", "aria-label": "Created before" }));
  const filters = h("form.filters", q, status, source, h("label.range", h("span", "From"), after), h("label.range", h("span", "to"), before));

  function params() {
    return {
      project_id: project.id,
      q: q.value.trim(),
      status: status.value,
      source: source.value,
      // Whole days in the reader's time zone.
      created_after: after.value ? new Date(`${after.value}T00:00:00`).toISOString() : null,
      created_before: before.value ? new Date(`${before.value}T23:59:59.999`).toISOString() : null,
      limit: PAGE,
    };
  }
  /** @param {string} s */
  const gone = (s) => s === "deleted" || (s === "deleting" && status.value !== "deleting");
  const filtered = () => Boolean(q.value.trim() || status.value || source.value || after.value || before.value);

  /** @param {Video} v */
  function row(v) {
    const poster = posterOf(v);
    const tr = h("tr.video-row", { "data-video": v.id, "data-status": v.status, tabindex: 0 },
      h("td.thumbcell", poster ? h("img.thumb", { src: poster, alt: "", loading: "lazy" }) : h("div.thumb.placeholder", "▶")),
      h("td", h("a.title", { href: `/console/videos/${v.id}` }, v.title || v.filename), h("div.muted.small", v.title ? v.filename : v.source)),
      h("td.statustd", statusCell(v)),
      h("td.hide-sm", v.probe?.duration ? formatDuration(v.probe.duration) : "—"),
      h("td.hide-sm", v.size_bytes ? formatBytes(v.size_bytes) : "—"),
      h("td.hide-sm", when(v.created_at)));
    tr.addEventListener("click", (e) => {
      if (!(/** @type {Element} */ (e.target).closest("a"))) ctx.navigate(`/videos/${v.id}`);
    });
    return tr;
  }

  /** @param {Video} v @param {boolean} [top] */
  function put(v, top = false) {
    const old = rows.get(v.id);
    if (gone(v.status)) {
      // Deleted videos leave the list (unless the filter asks for those being deleted).
      old?.remove();
      rows.delete(v.id);
      showTable();
      return;
    }
    const tr = row(v);
    if (old) old.replaceWith(tr);
    else if (top) tbody.prepend(tr);
    else tbody.append(tr);
    rows.set(v.id, tr);
    showTable();
  }

  function showTable() {
    if (rows.size) {
      if (!tableBox.querySelector("table")) fill(tableBox, h("div.card.table-wrap", h("table.table.videos#videos",
        h("thead", h("tr", h("th", ""), h("th", "Video"), h("th", "Status"), h("th.hide-sm", "Length"), h("th.hide-sm", "Size"), h("th.hide-sm", "Created"))), tbody)));
    } else {
      fill(tableBox, filtered()
        ? empty("No video matches", "Change or clear the filters.")
        : empty("No videos yet", "Drop a file above, or import one from a URL."));
    }
  }

  /** @param {boolean} reset */
  async function load(reset) {
    if (reset) {
      cursor = null;
      rows.clear();
      tbody.replaceChildren();
    }
    try {
      /** @type {{data: Video[], next_cursor: string | null}} */
      const page = await api.get(`/videos${query({ ...params(), cursor })}`);
      for (const v of page.data) put(v);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      showTable();
    } catch (exc) {
      showError(exc, "Loading the videos");
      fill(tableBox, h("div.notice.error", h("p", `The videos could not be loaded: ${exc instanceof Error ? exc.message : exc}`)));
    }
  }

  /** @param {string} id */
  async function refreshOne(id) {
    try {
      /** @type {Video} */
      const v = await api.get(`/videos/${id}`);
      if (v.project_id !== project.id) return;
      if (rows.has(id) || !filtered()) put(v, true);
    } catch (exc) {
      if (!(exc && typeof exc === "object" && "status" in exc && exc.status === 404)) showError(exc, "Updating a video");
    }
  }

  more.addEventListener("click", () => void load(false));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let typing;
  q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => void load(true), 300);
  });
  for (const el of [status, source, after, before]) el.addEventListener("change", () => void load(true));
  filters.addEventListener("submit", (e) => e.preventDefault());

  ctx.cleanup(watch("project_id", project.id, (event) => {
    const tr = rows.get(event.asset_id);
    if (tr && gone(event.status)) {
      tr.remove();
      rows.delete(event.asset_id);
      showTable();
      return;
    }
    if (!tr) {
      void refreshOne(event.asset_id);
      return;
    }
    if (event.type === "status") {
      // A new state may bring new fields (duration, poster): read the video again.
      void refreshOne(event.asset_id);
    }
    tr.dataset.status = event.status;
    const cell = tr.querySelector(".statustd");
    if (cell) fill(cell, statusCell(event));
  }));

  const opts = { projectId: project.id, onAsset: (/** @type {string} */ id) => void refreshOne(id) };
  fill(ctx.main,
    pageHead("Videos", `Project ${project.name}`),
    uploadPanel(opts),
    importForm(opts),
    h("div.card.filters-card", filters),
    tableBox,
    h("div.more", more));
  await load(true);
}
