// Projects: list, create, pick one (GET/POST /projects).

import { api } from "./api.js";
import { busy, empty, field, fill, h, pageHead, toast, when } from "./dom.js";

/** @param {import("./app.js").Ctx} ctx */
export async function renderProjects(ctx) {
  const name = /** @type {HTMLInputElement} */ (h("input", { name: "name", required: true, maxlength: 200, placeholder: "My channel" }));
  const transcribe = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", name: "auto_transcribe" }));
  const orgs = ctx.me.organizations.filter((o) => o.role === "owner");
  const org = /** @type {HTMLSelectElement} */ (
    h("select", { name: "organization_id" }, orgs.map((o) => h("option", { value: o.organization_id }, o.name)))
  );
  const create = h("button.btn.primary", { type: "submit" }, "Create project");
  const form = h(
    "form.card.inline-form#new-project",
    h("h2", "New project"),
    h("div.row",
      field("Name", name),
      orgs.length > 1 ? field("Organization", org) : null,
      h("label.check", transcribe, "Transcribe every video"),
      create),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(create, "Creating the project", async () => {
      const body = { name: name.value.trim(), auto_transcribe: transcribe.checked, organization_id: orgs.length > 1 ? org.value : undefined };
      const project = await api.post("/projects", body);
      toast(`Project “${project.name}” created`, "ok");
      ctx.pickProject(project.id);
      await ctx.reloadProjects();
      ctx.navigate("/videos");
    });
  });
  const list = ctx.projects.length
    ? h("div.card.table-wrap", h("table.table",
        h("thead", h("tr", h("th", "Name"), h("th", "Id"), h("th.hide-sm", "Transcribes"), h("th.hide-sm", "Created"), h("th", ""))),
        h("tbody", ctx.projects.map((p) => {
          const open = h("button.btn.small", { type: "button", "data-project": p.id }, ctx.project?.id === p.id ? "Current" : "Open");
          open.addEventListener("click", () => {
            ctx.pickProject(p.id);
            ctx.navigate("/videos");
          });
          return h("tr", h("td", h("strong", p.name)), h("td", h("code", p.id)), h("td.hide-sm", p.auto_transcribe ? "yes" : "no"), h("td.hide-sm", when(p.created_at)), h("td.right", open));
        }))))
    : empty("No project yet", "A project holds videos, API keys and webhooks. Create the first one above.");
  fill(ctx.main, pageHead("Projects", "Each project has its own videos, keys and webhooks."), form, list);
  if (!ctx.projects.length) name.focus();
}
