// Webhook endpoints of the current project (create shows the secret once; enable,
// disable, delete), their deliveries, retry and test (/projects/{id}/webhooks).

import { api, query } from "./api.js";
import { badge, busy, confirmDialog, empty, field, fill, h, pageHead, secretBox, toast, when } from "./dom.js";

/**
 * @typedef {{id: string, url: string, event_types: string[] | null, description: string,
 *   enabled: boolean, disabled_reason: string | null, failing_since: string | null,
 *   created_at: string}} Webhook
 * @typedef {{id: string, event_type: string, status: string, attempts: number,
 *   next_attempt_at: string | null, last_attempt_at: string | null,
 *   last_status_code: number | null, last_error: string | null,
 *   last_latency_ms: number | null, created_at: string}} Delivery
 */

const EVENTS = ["video.created", "video.uploaded", "video.processing", "video.playable", "video.ready", "video.failed", "video.updated", "video.deleted", "transcript.ready", "transcript.failed"];

/** @param {import("./app.js").Ctx} ctx */
export async function renderWebhooks(ctx) {
  const project = /** @type {import("./app.js").Project} */ (ctx.project);
  const base = `/projects/${project.id}/webhooks`;
  const created = h("div#webhook-created");
  const listBox = h("div");
  const deliveriesBox = h("div#deliveries");

  const url = /** @type {HTMLInputElement} */ (h("input", { type: "url", name: "url", required: true, placeholder: "https://example.com/hooks/streamcore" }));
  const description = /** @type {HTMLInputElement} */ (h("input", { name: "description", maxlength: 500, placeholder: "Optional" }));
  const boxes = EVENTS.map((e) => /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", name: "event_types", value: e })));
  const submit = h("button.btn.primary", { type: "submit" }, "Add endpoint");
  const form = h("form.card#new-webhook", h("h2", "New endpoint"),
    h("div.row", field("URL", url), field("Description", description)),
    h("fieldset.scopes.events", h("legend", "Events (none ticked: every event type)"), boxes.map((box) => h("label.check", box, h("code", box.value)))),
    h("div.actions", submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(submit, "Adding the endpoint", async () => {
      const types = boxes.filter((b) => b.checked).map((b) => b.value);
      const hook = await api.post(base, { url: url.value.trim(), description: description.value.trim(), event_types: types.length ? types : null });
      fill(created, secretBox("Endpoint added. Its signing secret:", hook.secret));
      url.value = "";
      description.value = "";
      for (const b of boxes) b.checked = false;
      toast("Webhook endpoint added", "ok");
      await load();
    });
  });

  async function load() {
    /** @type {Webhook[]} */
    const hooks = await api.get(base);
    if (!hooks.length) {
      fill(listBox, empty("No webhook endpoints", "Add a URL to be told when videos are ready, fail or change."));
      fill(deliveriesBox);
      return;
    }
    fill(listBox, h("div.card.table-wrap", h("table.table#webhooks",
      h("thead", h("tr", h("th", "Endpoint"), h("th.hide-sm", "Events"), h("th", "State"), h("th", ""))),
      h("tbody", hooks.map(hookRow)))));
  }

  /** @param {Webhook} w */
  function hookRow(w) {
    const toggle = h("button.btn.small", { type: "button" }, w.enabled ? "Disable" : "Enable");
    toggle.addEventListener("click", () => void busy(toggle, "Changing the endpoint", async () => {
      await api.patch(`${base}/${w.id}`, { enabled: !w.enabled });
      await load();
    }));
    const test = h("button.btn.small", { type: "button", "data-action": "test" }, "Send test");
    test.addEventListener("click", () => void busy(test, "Sending a test", async () => {
      await api.post(`${base}/${w.id}/test`);
      toast("Test message queued", "ok");
      await showDeliveries(w);
    }));
    const logs = h("button.btn.small", { type: "button" }, "Deliveries");
    logs.addEventListener("click", () => void busy(logs, "Loading deliveries", () => showDeliveries(w)));
    const del = h("button.btn.small.danger", { type: "button" }, "Delete");
    del.addEventListener("click", async () => {
      if (!(await confirmDialog("Delete this endpoint?", `${w.url} gets no more messages; its delivery log goes too.`, "Delete"))) return;
      await busy(del, "Deleting the endpoint", async () => {
        await api.del(`${base}/${w.id}`);
        toast("Endpoint deleted", "ok");
        await load();
      });
    });
    return h("tr", { "data-webhook": w.id },
      h("td", h("code.break", w.url), w.description ? h("div.muted.small", w.description) : null),
      h("td.hide-sm", w.event_types ? w.event_types.map((e) => h("span.chip", e)) : h("span.muted", "every event")),
      h("td", badge(w.enabled ? "enabled" : "disabled"), w.disabled_reason ? h("div.small.error-text", w.disabled_reason) : null),
      h("td.right.nowrap", test, logs, toggle, del));
  }

  /** @param {Webhook} w @param {string | null} [cursor] */
  async function showDeliveries(w, cursor = null) {
    /** @type {{items: Delivery[], next_cursor: string | null}} */
    const page = await api.get(`${base}/${w.id}/deliveries${query({ cursor, limit: 25 })}`);
    const older = h("button.btn.small", { type: "button", hidden: !page.next_cursor }, "Older");
    older.addEventListener("click", () => void busy(older, "Loading deliveries", () => showDeliveries(w, page.next_cursor)));
    const refresh = h("button.btn.small.ghost", { type: "button" }, "Refresh");
    refresh.addEventListener("click", () => void busy(refresh, "Loading deliveries", () => showDeliveries(w)));
    fill(deliveriesBox, h("section.card",
      h("div.cardhead", h("h2", "Deliveries"), h("code.small", w.url), h("div.spacer"), refresh),
      page.items.length
        ? h("div.table-wrap", h("table.table.compact",
            h("thead", h("tr", h("th", "Event"), h("th", "Status"), h("th", "Attempts"), h("th.hide-sm", "Last answer"), h("th.hide-sm", "When"), h("th", ""))),
            h("tbody", page.items.map((d) => deliveryRow(w, d)))))
        : h("p.muted", "Nothing sent yet. “Send test” sends one."),
      older));
  }

  /** @param {Webhook} w @param {Delivery} d */
  function deliveryRow(w, d) {
    const retry = h("button.btn.small", { type: "button" }, "Retry");
    retry.addEventListener("click", () => void busy(retry, "Retrying", async () => {
      await api.post(`${base}/${w.id}/deliveries/${d.id}/retry`);
      toast("Sent again", "ok");
      await showDeliveries(w);
    }));
    const answer = d.last_status_code ? `HTTP ${d.last_status_code}${d.last_latency_ms !== null ? ` · ${d.last_latency_ms} ms` : ""}` : d.last_error || "—";
    return h("tr", h("td", h("code", d.event_type)), h("td", badge(d.status)), h("td", String(d.attempts)),
      h("td.hide-sm", answer), h("td.hide-sm", when(d.last_attempt_at || d.created_at)), h("td.right", retry));
  }

  fill(ctx.main, pageHead("Webhooks", `Signed messages (Standard Webhooks) for project ${project.name}.`), form, created, listBox, deliveriesBox);
  await load();
}
