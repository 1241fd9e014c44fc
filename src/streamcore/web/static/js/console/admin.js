// Operating the platform, for super-admins: /admin/stats (consumers, lag, jobs by
// status, failures), jobs (stop a video's processing, retry a dead job) and replaying
// the dead-letter queue (every dead job back in the queue, one retry each).

import { api, query } from "./api.js";
import { badge, busy, confirmDialog, empty, fill, h, icon, pageHead, toast, when } from "./dom.js";

/**
 * @typedef {{id: string, asset_id: string, kind: string, status: string, attempts: number,
 *   max_attempts: number, error_class: string | null, last_error: string | null,
 *   next_attempt_at: string, finished_at: string | null}} Job
 */

const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled", "dead"];

/** @param {import("./app.js").Ctx} ctx */
export async function renderAdmin(ctx) {
  if (!ctx.me.is_superadmin) {
    fill(ctx.main, h("div.notice.forbidden#not-allowed", h("div.empty-icon", icon("lock")), h("h1", "Not allowed"),
      h("p", "The admin pages are for super-admins. Your account can manage its own projects and videos."),
      h("a.btn", { href: "/console/videos" }, "Back to videos")));
    return;
  }
  const statsBox = h("div#stats");
  const jobsBox = h("div#jobs");
  const filter = /** @type {HTMLSelectElement} */ (h("select", { "aria-label": "Job status" }, h("option", { value: "" }, "All jobs"), JOB_STATUSES.map((s) => h("option", { value: s }, s))));
  filter.addEventListener("change", () => void loadJobs());
  const replay = h("button.btn.primary", { type: "button", "data-action": "replay-dlq" }, "Replay DLQ");
  replay.addEventListener("click", async () => {
    if (!(await confirmDialog("Replay the dead-letter queue?", "Every dead job goes back in the queue with fresh attempts.", "Replay"))) return;
    await busy(replay, "Replaying the DLQ", async () => {
      /** @type {Job[]} */
      const dead = await api.get(`/admin/jobs${query({ status: "dead", limit: 1000 })}`);
      let done = 0;
      for (const job of dead) {
        await api.post(`/admin/jobs/${job.id}/retry`);
        done += 1;
      }
      toast(done ? `${done} dead job(s) put back in the queue` : "The DLQ is empty", "ok");
      await Promise.all([loadStats(), loadJobs()]);
    });
  });
  const refresh = h("button.btn.ghost", { type: "button" }, "Refresh");
  refresh.addEventListener("click", () => void busy(refresh, "Refreshing", () => Promise.all([loadStats(), loadJobs()]).then(() => undefined)));

  async function loadStats() {
    const s = await api.get("/admin/stats");
    /** @param {string} label @param {string | number} value @param {string} [note] */
    const figure = (label, value, note) => h("div.figure", h("span.figure-label", label), h("strong.figure-value", String(value)), note ? h("small.muted", note) : null);
    /** @param {Record<string, number>} map */
    const pairs = (map) => Object.entries(map).sort((a, b) => b[1] - a[1]);
    fill(statsBox,
      h("div.figures",
        figure("Workers", s.workers.length, s.bus),
        figure("Active consumers", s.active_consumers, s.group_id || ""),
        figure("Lag", s.total_lag, s.lag_error ? `unreadable: ${s.lag_error}` : "messages not yet committed"),
        figure("Throughput", `${s.throughput.per_minute.toFixed(1)}/min`, `${s.throughput.succeeded} of ${s.throughput.finished} succeeded in ${Math.round(s.throughput.window_seconds / 60)} min`)),
      h("div.grid2",
        h("section.card", h("h2", "Jobs by status"), Object.keys(s.jobs).length
          ? h("table.table.compact#jobs-by-status", h("tbody", pairs(s.jobs).map(([k, v]) => h("tr", h("td", badge(k)), h("td.right", String(v))))))
          : h("p.muted", "No jobs yet.")),
        h("section.card", h("h2", "Failures by error class"), Object.keys(s.failures).length
          ? h("table.table.compact#failures", h("tbody", pairs(s.failures).map(([k, v]) => h("tr", h("td", h("code", k)), h("td.right", String(v))))))
          : h("p.muted", "No failures."))),
      s.lag.length ? h("section.card", h("h2", "Lag per topic"), h("table.table.compact", h("thead", h("tr", h("th", "Topic"), h("th", "Partitions"), h("th.right", "Total"))),
        h("tbody", s.lag.map((/** @type {{topic: string, partitions: Record<string, number>, total: number}} */ t) => h("tr", h("td", h("code", t.topic)),
          h("td", Object.entries(t.partitions).map(([p, n]) => h("span.chip", `${p}: ${n}`))), h("td.right", String(t.total))))))) : null,
      h("section.card", h("h2", "Workers"), s.workers.length
        ? h("div.table-wrap", h("table.table.compact", h("thead", h("tr", h("th", "Host"), h("th", "PID"), h("th", "Consumers"), h("th", "Running"), h("th.hide-sm", "Heartbeat"))),
            h("tbody", s.workers.map((/** @type {{host: string, pid: number, consumers: number, running_jobs: number, heartbeat_at: string}} */ w) =>
              h("tr", h("td", w.host), h("td", String(w.pid)), h("td", String(w.consumers)), h("td", String(w.running_jobs)), h("td.hide-sm", when(w.heartbeat_at)))))))
        : h("p.muted", "No worker is running.")));
  }

  async function loadJobs() {
    /** @type {Job[]} */
    const jobs = await api.get(`/admin/jobs${query({ status: filter.value, limit: 100 })}`);
    fill(jobsBox, h("section.card",
      h("div.cardhead", h("h2", "Jobs"), h("div.spacer"), filter),
      jobs.length
        ? h("div.table-wrap", h("table.table.compact#job-list",
            h("thead", h("tr", h("th", "Job"), h("th", "Video"), h("th", "Status"), h("th.hide-sm", "Attempts"), h("th.hide-sm", "Error"), h("th", ""))),
            h("tbody", jobs.map(jobRow))))
        : empty("No jobs", filter.value ? `No ${filter.value} job.` : "Nothing has been processed yet.")));
  }

  /** @param {Job} job */
  function jobRow(job) {
    const actions = h("td.right.nowrap");
    if (job.status === "queued" || job.status === "running") {
      const stop = h("button.btn.small.danger", { type: "button", "data-action": "stop" }, "Stop");
      stop.addEventListener("click", async () => {
        if (!(await confirmDialog("Stop this video's processing?", "Queued jobs are cancelled, running ones killed.", "Stop"))) return;
        await busy(stop, "Stopping", async () => {
          const out = await api.post(`/admin/video/${job.asset_id}/stop`);
          toast(`Stopped: ${out.cancelled_jobs.length} cancelled, ${out.stopping_jobs.length} stopping`, "ok");
          await loadJobs();
        });
      });
      actions.append(stop);
    }
    if (job.status === "dead" || job.status === "failed" || job.status === "cancelled") {
      const retry = h("button.btn.small", { type: "button", "data-action": "retry" }, "Retry");
      retry.addEventListener("click", () => void busy(retry, "Retrying the job", async () => {
        await api.post(`/admin/jobs/${job.id}/retry`);
        toast("Job queued again", "ok");
        await loadJobs();
      }));
      actions.append(retry);
    }
    return h("tr", { "data-job": job.id },
      h("td", h("code", job.kind), h("div.muted.small", job.id)),
      h("td", h("a", { href: `/console/videos/${job.asset_id}` }, h("code", job.asset_id))),
      h("td", badge(job.status)),
      h("td.hide-sm", `${job.attempts} / ${job.max_attempts}`),
      h("td.hide-sm", job.error_class ? h("span", h("code", job.error_class), h("div.muted.small", (job.last_error || "").slice(0, 120))) : "—"),
      actions);
  }

  fill(ctx.main, pageHead("Admin", "The whole platform: workers, queues and jobs.", refresh, replay), statsBox, jobsBox);
  await Promise.all([loadStats(), loadJobs()]);
}
