// One video: the player, status with progress and ETA (or the error), probe metadata,
// renditions, mp4/mp3 downloads, the transcript (a click on a line seeks the player),
// edit, reprocess, transcribe, delete, and the embed snippet.

import { api } from "./api.js";
import { badge, busy, confirmDialog, copyButton, field, fill, h, progressBar, showError, toast, when } from "./dom.js";
import { createPlayer } from "./player.js";
import { renderVideoAnalytics } from "./analytics.js";
import { watch } from "./realtime.js";
import { posterOf, WORKING } from "./videos.js";
import { formatBytes, formatDuration } from "../format.js";

/** @typedef {import("./videos.js").Video} Video */

/** @param {import("./app.js").Ctx} ctx */
export async function renderVideo(ctx) {
  const id = ctx.params[0];
  /** @type {Video} */
  let video;
  try {
    video = await api.get(`/videos/${id}`);
  } catch (exc) {
    const gone = exc && typeof exc === "object" && "status" in exc && exc.status === 404;
    fill(ctx.main, h("div.notice", h("h1", gone ? "Video not found" : "This video could not load"),
      h("p", gone ? "It was deleted, or it belongs to a project you cannot see." : String(exc instanceof Error ? exc.message : exc)),
      h("a.btn", { href: "/console/videos" }, "Back to videos")));
    return;
  }
  if (video.project_id !== ctx.project?.id && ctx.projects.some((p) => p.id === video.project_id)) ctx.pickProject(video.project_id);

  const head = h("header.pagehead");
  const playerBox = h("div.player-box");
  const transcriptBox = h("section.card#transcript");
  const statusBox = h("section.card#status");
  const details = h("section.card#details");
  const downloads = h("section.card#downloads");
  const editBox = h("section.card#edit");
  const embedBox = h("section.card#embed");
  const analyticsBox = h("section.card#analytics");
  /** @type {import("./player.js").Player | null} */
  let player = null;
  ctx.cleanup(() => player?.destroy());

  function renderAll() {
    renderHead();
    renderPlayer();
    renderStatus(video);
    renderDetails();
    renderDownloads();
    void renderTranscript();
    renderEmbed();
    if (video.playable) void renderVideoAnalytics(analyticsBox, video.id);
  }

  async function reload() {
    try {
      video = await api.get(`/videos/${id}`);
      renderAll();
    } catch (exc) {
      showError(exc, "Reloading the video");
    }
  }

  function renderHead() {
    const reprocess = h("button.btn", { type: "button", "data-action": "reprocess" }, "Reprocess");
    reprocess.addEventListener("click", () => void busy(reprocess, "Reprocessing", async () => {
      await api.post(`/reprocess/${video.project_id}/${video.id}`);
      toast("Processing again from the original upload", "ok");
      await reload();
    }));
    const del = h("button.btn.danger", { type: "button", "data-action": "delete" }, "Delete");
    del.addEventListener("click", async () => {
      const ok = await confirmDialog("Delete this video?", `“${video.title || video.filename}” stops playing at once and every file is removed. This cannot be undone.`, "Delete video");
      if (!ok) return;
      await busy(del, "Deleting", async () => {
        await api.del(`/videos/${video.id}`);
        toast("Video deleted", "ok");
        ctx.navigate("/videos");
      });
    });
    fill(head,
      h("div", h("a.back", { href: "/console/videos" }, "← Videos"), h("h1", video.title || video.filename), h("p.sub", h("code", video.id), " · ", badge(video.status))),
      h("div.actions", reprocess, del));
  }

  function renderPlayer() {
    if (player || !video.playable || !(video.playback_url || video.embed_url)) {
      if (!player) fill(playerBox, h("div.player-placeholder", posterOf(video) ? h("img", { src: posterOf(video) || "", alt: "" }) : null,
        h("span", video.status === "failed" ? "Processing failed" : "The player appears as soon as the first segments are ready")));
      return;
    }
    player = createPlayer(video, posterOf(video));
    fill(playerBox, player.el);
  }

  /** @param {Pick<Video, "status" | "progress" | "eta_seconds" | "error">} s */
  function renderStatus(s) {
    const rows = [h("div.kv", h("span", "Status"), badge(s.status))];
    if (WORKING.has(s.status)) {
      rows.push(progressBar(s.progress, `${s.progress.toFixed(0)} %`));
      rows.push(h("div.kv", h("span", "Time left"), h("span#eta", s.eta_seconds ? formatDuration(s.eta_seconds) : "estimating…")));
    }
    if (s.error) rows.push(h("div.errorbox", h("strong", s.error.class), h("p", s.error.message)));
    fill(statusBox, h("h2", "Processing"), rows);
  }

  function renderDetails() {
    const p = video.probe;
    /** @type {[string, string][]} */
    const facts = [
      ["Duration", p.duration ? formatDuration(p.duration) : "—"],
      ["Size", p.width ? `${p.width} × ${p.height}` : "—"],
      ["Video", p.video_codec || "—"],
      ["Audio", p.audio_codec || "—"],
      ["Frame rate", p.frame_rate ? `${p.frame_rate.toFixed(2)} fps` : "—"],
      ["Bitrate", p.bitrate ? `${(p.bitrate / 1000).toFixed(0)} kb/s` : "—"],
      ["Container", p.container ? p.container.replace(/,/g, ", ") : "—"],
      ["File", `${video.filename}${video.size_bytes ? ` (${formatBytes(video.size_bytes)})` : ""}`],
      ["Source", video.source],
      ["Created", when(video.created_at)],
    ];
    fill(details, h("h2", "Media"), h("dl.facts", facts.flatMap(([k, v]) => [h("dt", k), h("dd", v)])),
      h("h3", "Renditions"),
      video.renditions.length
        ? h("table.table.compact#renditions", h("thead", h("tr", h("th", "Name"), h("th", "Size"), h("th", "Video"), h("th", "Audio"))),
            h("tbody", video.renditions.map((r) => h("tr", h("td", r.name), h("td", `${r.width}×${r.height}`), h("td", `${r.video_kbps} kb/s`), h("td", `${r.audio_kbps} kb/s`)))))
        : h("p.muted", "None yet."));
  }

  function renderDownloads() {
    const d = video.derivatives;
    /** @param {string | null} url @param {string} label @param {string} ext */
    const link = (url, label, ext) => url
      ? h("a.btn.small", { href: url, download: `${(video.title || video.id).replace(/[^\w.-]+/g, "_")}.${ext}`, "data-download": ext }, `↓ ${label}`)
      : h("span.btn.small.disabled", { title: "Not ready yet" }, label);
    fill(downloads, h("h2", "Downloads"), h("div.actions.left", link(d.mp4, "MP4 video", "mp4"), link(d.mp3, "MP3 audio", "mp3")),
      h("p.muted.small", "Loudness-normalised (EBU R128). Links are signed and expire like the playback URL."));
  }

  async function renderTranscript() {
    const t = video.transcript;
    const transcribe = h("button.btn.small", { type: "button", "data-action": "transcribe" }, t.status === "failed" ? "Transcribe again" : "Transcribe");
    transcribe.addEventListener("click", () => void busy(transcribe, "Transcribing", async () => {
      await api.post("/media/transcribe", { video_id: video.id });
      toast("Transcription queued", "ok");
      await reload();
    }));
    const title = h("div.cardhead", h("h2", "Transcript"), t.language ? h("span.chip", t.language) : null, badge(t.status));
    if (t.status !== "ready" || !t.json_url) {
      /** @type {Record<string, string>} */
      const words = { none: "No transcript yet.", pending: "Queued…", running: "Transcribing…", failed: t.error ? `${t.error.class}: ${t.error.message}` : "The transcription failed." };
      const canAsk = (t.status === "none" || t.status === "failed") && video.status === "ready";
      fill(transcriptBox, title, h("p.muted", words[t.status] || t.status), canAsk ? transcribe : null);
      return;
    }
    fill(transcriptBox, title, h("p.muted", "Loading…"));
    try {
      const resp = await fetch(t.json_url);
      if (!resp.ok) throw new Error(`the transcript answered ${resp.status}`);
      /** @type {{segments: {start: number, end: number, text: string}[]}} */
      const doc = await resp.json();
      const lines = doc.segments.map((s) => {
        const line = h("button.line", { type: "button", "data-start": s.start }, h("span.ts", formatDuration(s.start)), h("span", s.text.trim()));
        line.addEventListener("click", () => player?.seek(s.start));
        return line;
      });
      fill(transcriptBox, title, lines.length ? h("div.lines", lines) : h("p.muted", "No speech found."),
        t.vtt_url ? h("a.small", { href: t.vtt_url, download: "transcript.vtt" }, "WebVTT") : null);
    } catch (exc) {
      fill(transcriptBox, title, h("p.error-text", `The transcript could not load: ${exc instanceof Error ? exc.message : exc}`));
    }
  }

  function renderEdit() {
    const title = /** @type {HTMLInputElement} */ (h("input", { name: "title", maxlength: 512, value: video.title || "" }));
    const description = /** @type {HTMLTextAreaElement} */ (h("textarea", { name: "description", rows: 3, maxlength: 10000 }));
    description.value = video.description || "";
    const save = h("button.btn.primary", { type: "submit" }, "Save");
    const form = h("form", h("h2", "Details"), field("Title", title), field("Description", description), h("div.actions.left", save));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void busy(save, "Saving", async () => {
        video = await api.patch(`/videos/${video.id}`, { title: title.value.trim() || null, description: description.value.trim() || null });
        toast("Saved", "ok");
        renderHead();
      });
    });
    fill(editBox, form);
  }

  function renderEmbed() {
    const snippet = video.embed_html
      || (video.embed_url ? `<iframe src="${video.embed_url}" width="640" height="360" allow="autoplay; fullscreen" allowfullscreen style="border:0"></iframe>` : null);
    if (snippet) {
      fill(embedBox, h("h2", "Embed"), h("p.muted.small", "Paste this where the video should play. The link expires like the playback URL."),
        h("div.copyrow", h("textarea.snippet#embed-snippet", { readonly: true, rows: 3 }, snippet), copyButton(snippet)));
    } else if (video.playback_url) {
      fill(embedBox, h("h2", "Playback URL"), h("p.muted.small", "HLS for hls.js, Safari, VLC or ffplay; signed, it expires."),
        h("div.copyrow", h("textarea.snippet#embed-snippet", { readonly: true, rows: 3 }, video.playback_url), copyButton(video.playback_url)));
    } else {
      fill(embedBox, h("h2", "Embed"), h("p.muted", "Available once the video is playable."));
    }
  }

  ctx.cleanup(watch("asset_id", id, (event) => {
    renderStatus(event);
    if (event.type === "status" || (event.playable && !player)) void reload();
  }));

  fill(ctx.main, head,
    h("div.video-grid",
      h("div.col-main", playerBox, transcriptBox, analyticsBox, embedBox),
      h("div.col-side", statusBox, details, downloads, editBox)));
  renderAll();
  renderEdit();
}
