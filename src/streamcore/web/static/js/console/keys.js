// API keys of the current project: create with scopes (the secret shown once), list,
// revoke (/projects/{id}/api-keys).

import { api } from "./api.js";
import { busy, confirmDialog, empty, field, fill, h, pageHead, secretBox, toast, when } from "./dom.js";

const SCOPES = [
  ["upload", "Upload and edit videos"],
  ["read", "Read videos and events"],
  ["stream", "Sign playback URLs"],
  ["admin", "Manage the project"],
];

/**
 * @typedef {{id: string, name: string, prefix: string, scopes: string[],
 *   expires_at: string | null, revoked_at: string | null, last_used_at: string | null,
 *   created_at: string}} ApiKey
 */

/** @param {import("./app.js").Ctx} ctx */
export async function renderKeys(ctx) {
  const project = /** @type {import("./app.js").Project} */ (ctx.project);
  const base = `/projects/${project.id}/api-keys`;
  const created = h("div#key-created");
  const listBox = h("div");

  const name = /** @type {HTMLInputElement} */ (h("input", { name: "name", maxlength: 200, placeholder: "CI uploader" }));
  const expires = /** @type {HTMLInputElement} */ (h("input", { type: "date", name: "expires" }));
  const boxes = SCOPES.map(([scope, text]) =>
    /** @type {[string, HTMLInputElement, string]} */ ([scope, /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", name: "scope", value: scope, checked: scope !== "admin" })), text]));
  const submit = h("button.btn.primary", { type: "submit" }, "Create key");
  const form = h(
    "form.card#new-key",
    h("h2", "New API key"),
    h("div.row", field("Name", name), field("Expires (empty: never)", expires)),
    h("fieldset.scopes", h("legend", "Scopes"), boxes.map(([scope, box, text]) => h("label.check", box, h("code", scope), h("span.muted", text)))),
    h("div.actions", submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(submit, "Creating the key", async () => {
      const scopes = boxes.filter(([, box]) => box.checked).map(([scope]) => scope);
      if (!scopes.length) throw new Error("pick at least one scope");
      const body = {
        name: name.value.trim(),
        scopes,
        expires_at: expires.value ? new Date(`${expires.value}T23:59:59`).toISOString() : null,
      };
      const key = await api.post(base, body);
      fill(created, secretBox(`Key “${key.name || key.prefix}” created.`, key.key));
      name.value = "";
      toast("API key created", "ok");
      await load();
    });
  });

  async function load() {
    /** @type {ApiKey[]} */
    const keys = await api.get(base);
    const live = keys.filter((k) => !k.revoked_at);
    if (!live.length) {
      fill(listBox, empty("No API keys", "Create a key for your servers to call the API."));
      return;
    }
    fill(listBox, h("div.card.table-wrap", h("table.table#keys",
      h("thead", h("tr", h("th", "Name"), h("th", "Key"), h("th", "Scopes"), h("th.hide-sm", "Last used"), h("th.hide-sm", "Expires"), h("th", ""))),
      h("tbody", live.map((k) => {
        const revoke = h("button.btn.small.danger", { type: "button" }, "Revoke");
        revoke.addEventListener("click", async () => {
          const ok = await confirmDialog("Revoke this key?", `Requests with ${k.prefix}… stop working at once.`, "Revoke");
          if (!ok) return;
          await busy(revoke, "Revoking the key", async () => {
            await api.del(`${base}/${k.id}`);
            toast("Key revoked", "ok");
            fill(created);
            await load();
          });
        });
        return h("tr", { "data-key": k.id },
          h("td", k.name || h("span.muted", "unnamed")),
          h("td", h("code", `${k.prefix}…`)),
          h("td", k.scopes.map((s) => h("span.chip", s))),
          h("td.hide-sm", when(k.last_used_at)),
          h("td.hide-sm", k.expires_at ? when(k.expires_at) : "never"),
          h("td.right", revoke));
      })))));
  }

  fill(ctx.main, pageHead("API keys", `Keys act on project ${project.name} only. Send one as “Authorization: Bearer sk_…” or “X-API-Key”.`), form, created, listBox);
  await load();
}
