// Uploads with tus (tus-js-client, the global `tus`): several files at once, a progress
// bar with speed, pause and resume. tus-js-client keeps each unfinished upload's URL in
// localStorage; after a reload the console offers those of the project, and re-picking
// the file resumes from the offset the server holds (a HEAD on the upload's URL).

import { accessToken, api } from "./api.js";
import { busy, field, h, icon, progressBar, setProgress, showError, toast } from "./dom.js";
import { formatBytes, formatDuration } from "../format.js";

const ENDPOINT = "/uploads/tus/";
/** Bytes per PATCH: a dropped connection loses at most one chunk's progress. */
export const CHUNK_BYTES = 5 * 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000];

/**
 * @typedef {{projectId: string, onAsset: (assetId: string) => void}} Options
 */

/**
 * The upload card: a drop zone, a file picker, the running uploads and the unfinished
 * ones a reload left behind.
 * @param {Options} opts
 */
export function uploadPanel(opts) {
  const input = /** @type {HTMLInputElement} */ (h("input#file-input", { type: "file", multiple: true, accept: "video/*,audio/*", hidden: true }));
  const zone = h(
    "div.dropzone",
    { tabindex: 0, role: "button", "aria-label": "Upload files" },
    h("div.drop-icon", icon("upload")),
    h("strong", "Drop video files here"),
    h("span.muted", " or "),
    h("span.link", "choose files"),
    h("small.muted.block", "Resumable uploads (tus): pause, resume, or pick the file again after a reload."),
  );
  const rows = h("div.uploads");
  const offers = h("div.offers");
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") input.click();
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    for (const file of e.dataTransfer?.files || []) void startUpload(file, rows, opts);
  });
  input.addEventListener("change", () => {
    for (const file of input.files || []) void startUpload(file, rows, opts);
    input.value = "";
  });
  void showOffers(offers, rows, opts);
  return h("section.card.upload-card", zone, input, offers, rows);
}

/** @param {tus.HttpRequest} req */
function authorize(req) {
  const token = accessToken();
  if (token) req.setHeader("Authorization", `Bearer ${token}`);
}

/**
 * Upload one file, resuming a stored upload of the same file if there is one.
 * @param {File} file
 * @param {HTMLElement} rows
 * @param {Options} opts
 * @param {tus.PreviousUpload} [previous] the stored upload to resume
 */
async function startUpload(file, rows, opts, previous) {
  const bar = progressBar(0, "starting…");
  const status = h("span.upload-status.muted", "starting…");
  const pause = /** @type {HTMLButtonElement} */ (h("button.btn.small", { type: "button", "data-action": "pause" }, "Pause"));
  const row = h("div.upload-row", { "data-file": file.name },
    h("div.upload-head", h("strong.filename", file.name), h("span.muted", formatBytes(file.size)), h("div.spacer"), status, pause),
    bar);
  rows.prepend(row);
  let sampleAt = performance.now();
  let sampleBytes = 0;
  let speed = 0;
  let running = true;
  /** @type {string | null} */
  let assetId = null;

  const upload = new tus.Upload(file, {
    endpoint: ENDPOINT,
    chunkSize: CHUNK_BYTES,
    retryDelays: RETRY_DELAYS,
    metadata: { project_id: opts.projectId, filename: file.name, filetype: file.type || "application/octet-stream" },
    removeFingerprintOnSuccess: true,
    onBeforeRequest: authorize,
    onAfterResponse: (_req, res) => {
      const id = res.getHeader("X-Asset-Id");
      if (id && id !== assetId) {
        assetId = id;
        row.dataset.asset = id;
        opts.onAsset(id);
      }
    },
    onProgress: (sent, total) => {
      const now = performance.now();
      if (now - sampleAt > 500) {
        const rate = ((sent - sampleBytes) * 1000) / (now - sampleAt);
        speed = speed ? speed * 0.6 + rate * 0.4 : rate;
        sampleAt = now;
        sampleBytes = sent;
      }
      const size = total || file.size;
      const left = speed > 0 ? ` · ${formatDuration((size - sent) / speed)} left` : "";
      setProgress(bar, (sent / size) * 100, `${formatBytes(sent)} of ${formatBytes(size)}`);
      status.textContent = `${Math.floor((sent / size) * 100)} %${speed ? ` · ${formatBytes(speed)}/s` : ""}${left}`;
      row.dataset.sent = String(sent);
    },
    onSuccess: () => {
      running = false;
      row.classList.add("done");
      setProgress(bar, 100, "uploaded");
      status.textContent = "uploaded";
      pause.remove();
      toast(`${file.name} uploaded`, "ok");
      if (assetId) opts.onAsset(assetId);
    },
    onError: (err) => {
      running = false;
      row.classList.add("failed");
      const res = /** @type {tus.DetailedError} */ (err).originalResponse;
      let text = err.message;
      if (res) {
        try {
          const body = JSON.parse(res.getBody());
          text = `${body.detail} (${body.error})`;
        } catch {
          text = `the server answered ${res.getStatus()}`;
        }
      }
      status.textContent = "interrupted";
      pause.textContent = "Resume";
      showError(new Error(text), `Uploading ${file.name}`);
    },
  });
  if (previous) {
    upload.resumeFromPreviousUpload(previous);
  } else {
    const found = await upload.findPreviousUploads();
    const same = found.find((p) => p.metadata.project_id === opts.projectId);
    if (same) upload.resumeFromPreviousUpload(same);
  }
  pause.addEventListener("click", () => {
    if (running) {
      running = false;
      void upload.abort();
      pause.textContent = "Resume";
      status.textContent = "paused";
    } else {
      running = true;
      row.classList.remove("failed");
      pause.textContent = "Pause";
      status.textContent = "resuming…";
      sampleAt = performance.now();
      speed = 0;
      upload.start();
    }
  });
  upload.start();
}

/**
 * The offset the server holds for a stored upload (null: it is gone).
 * @param {string} url
 * @returns {Promise<number | null>}
 */
async function offsetOf(url) {
  const headers = { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${accessToken() || ""}` };
  const resp = await fetch(url, { method: "HEAD", headers });
  if (!resp.ok) return null;
  return Number(resp.headers.get("Upload-Offset") || "0");
}

/**
 * Unfinished uploads of this project that a reload (or a crash) left behind.
 * @param {HTMLElement} box
 * @param {HTMLElement} rows
 * @param {Options} opts
 */
async function showOffers(box, rows, opts) {
  const storage = tus.defaultOptions.urlStorage;
  let stored;
  try {
    stored = await storage.findAllUploads();
  } catch (exc) {
    showError(exc, "Reading unfinished uploads");
    return;
  }
  for (const prev of stored.filter((p) => p.metadata.project_id === opts.projectId && p.uploadUrl)) {
    const offset = await offsetOf(/** @type {string} */ (prev.uploadUrl)).catch(() => null);
    if (offset === null) {
      await storage.removeUpload(prev.urlStorageKey);
      continue;
    }
    const size = prev.size || 0;
    const name = prev.metadata.filename || "a file";
    const picker = /** @type {HTMLInputElement} */ (h("input", { type: "file", hidden: true, "data-resume": name }));
    const pick = h("button.btn.small.primary", { type: "button" }, "Choose the file to resume");
    const discard = h("button.btn.small.ghost", { type: "button" }, "Discard");
    const offer = h("div.offer", { "data-offer": name, "data-offset": offset },
      h("div", h("strong", name), h("span.muted", ` stopped at ${formatBytes(offset)} of ${formatBytes(size)}`)),
      progressBar(size ? (offset / size) * 100 : 0, `${size ? Math.floor((offset / size) * 100) : 0} % uploaded`),
      h("div.actions", pick, discard, picker));
    pick.addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      const file = picker.files?.[0];
      if (!file) return;
      if (file.name !== prev.metadata.filename || file.size !== size) {
        showError(new Error(`pick ${name} (${formatBytes(size)}): ${file.name} is another file`), "Resuming");
        return;
      }
      offer.remove();
      void startUpload(file, rows, opts, prev);
    });
    discard.addEventListener("click", () =>
      void busy(discard, "Discarding the upload", async () => {
        await fetch(/** @type {string} */ (prev.uploadUrl), { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", Authorization: `Bearer ${accessToken() || ""}` } });
        await storage.removeUpload(prev.urlStorageKey);
        offer.remove();
      }));
    box.append(offer);
  }
  if (box.childElementCount) box.prepend(h("h3", "Unfinished uploads"));
}

/**
 * Import a video from a URL (POST /{project_id}/upload with JSON {url}).
 * @param {Options} opts
 */
export function importForm(opts) {
  const url = /** @type {HTMLInputElement} */ (h("input", { type: "url", name: "url", required: true, placeholder: "https://example.com/video.mp4" }));
  const title = /** @type {HTMLInputElement} */ (h("input", { name: "title", maxlength: 512, placeholder: "Optional" }));
  const submit = h("button.btn", { type: "submit" }, "Import");
  const form = h("form.card.import-form", h("h3", "Import from a URL"), h("div.row", field("URL", url), field("Title", title), submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(submit, "Importing", async () => {
      const video = await api.post(`/${opts.projectId}/upload`, { url: url.value.trim(), title: title.value.trim() || undefined });
      toast("Import started", "ok");
      url.value = "";
      title.value = "";
      opts.onAsset(video.id);
    });
  });
  return form;
}

