// The console's shell: sign-in gate, sidebar and top bar, the project picker, and a
// history router over /console/... (every deep link serves the same page).

import { api, onSignedOut, signedIn, signOut } from "./api.js";
import { fill, h, icon, showError } from "./dom.js";
import { closeRealtime, connect } from "./realtime.js";
import { renderSignIn } from "./signin.js";
import { renderProjects } from "./projects.js";
import { renderVideos } from "./videos.js";
import { renderVideo } from "./video.js";
import { renderKeys } from "./keys.js";
import { renderWebhooks } from "./webhooks.js";
import { renderAnalytics } from "./analytics.js";
import { renderAdmin } from "./admin.js";

/**
 * @typedef {{id: string, email: string, is_superadmin: boolean,
 *   organizations: {organization_id: string, name: string, role: string}[]}} Me
 * @typedef {{id: string, name: string, organization_id: string, auto_transcribe: boolean,
 *   playback_ttl_seconds: number | null, created_at: string}} Project
 * @typedef {{main: HTMLElement, me: Me, projects: Project[], project: Project | null,
 *   params: string[], navigate: (path: string) => void, reloadProjects: () => Promise<void>,
 *   pickProject: (id: string) => void, cleanup: (fn: () => void) => void}} Ctx
 * @typedef {(ctx: Ctx) => Promise<void> | void} Page
 */

const BASE = "/console";
const PROJECT_KEY = "streamcore.console.project";

/** [pattern, page, nav name, needs a project] */
/** @type {[RegExp, Page, string, boolean][]} */
const ROUTES = [
  [/^\/?$/, renderVideos, "videos", true],
  [/^\/videos\/?$/, renderVideos, "videos", true],
  [/^\/videos\/([\w-]+)$/, renderVideo, "videos", false],
  [/^\/projects\/?$/, renderProjects, "projects", false],
  [/^\/keys\/?$/, renderKeys, "keys", true],
  [/^\/webhooks\/?$/, renderWebhooks, "webhooks", true],
  [/^\/analytics\/?$/, renderAnalytics, "analytics", true],
  [/^\/admin\/?$/, renderAdmin, "admin", false],
];

/** @type {Me | null} */
let me = null;
/** @type {Project[]} */
let projects = [];
/** @type {(() => void)[]} */
let cleanups = [];

/** @param {string} path a console path ("/videos") */
export function navigate(path) {
  history.pushState(null, "", BASE + path);
  void route();
}

function currentPath() {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "/";
  return path || "/";
}

function currentProject() {
  const id = localStorage.getItem(PROJECT_KEY);
  return projects.find((p) => p.id === id) || projects[0] || null;
}

/** @param {string} id */
function pickProject(id) {
  localStorage.setItem(PROJECT_KEY, id);
}

async function reloadProjects() {
  projects = await api.get("/projects");
}

async function route() {
  for (const fn of cleanups) fn();
  cleanups = [];
  const app = /** @type {HTMLElement} */ (document.getElementById("app"));
  const path = currentPath();
  if (!signedIn()) {
    // A deep link comes back after signing in.
    const next = path === "/" || path === "/signin" ? "" : `?next=${encodeURIComponent(path)}`;
    if (path !== "/signin") history.replaceState(null, "", `${BASE}/signin${next}`);
    renderSignIn(app, () => {
      me = null;
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/") ? next : "/");
    });
    return;
  }
  if (path === "/signin") return navigate("/");
  if (!me) {
    try {
      me = await api.get("/auth/me");
      await reloadProjects();
    } catch (exc) {
      fill(app, h("div.fatal", h("h1", "The console cannot start"), h("p", String(exc instanceof Error ? exc.message : exc))));
      showError(exc, "Loading your account");
      return;
    }
  }
  const found = ROUTES.map((r) => /** @type {const} */ ([r, path.match(r[0])])).find(([, m]) => m);
  const main = h("main.content");
  const nav = found ? found[0][2] : "";
  fill(app, shell(/** @type {Me} */ (me), nav, main));
  connect();
  if (!found) {
    fill(main, h("div.notice", h("h1", "Page not found"), h("p", `Nothing lives at ${BASE}${path}.`), h("a.btn", { href: `${BASE}/` }, "Back to videos")));
    return;
  }
  const [[, page, , needsProject], match] = found;
  const project = currentProject();
  if (needsProject && !project) {
    navigate("/projects");
    return;
  }
  /** @type {Ctx} */
  const ctx = {
    main,
    me: /** @type {Me} */ (me),
    projects,
    project,
    params: match ? match.slice(1) : [],
    navigate,
    reloadProjects,
    pickProject,
    cleanup: (fn) => cleanups.push(fn),
  };
  try {
    await page(ctx);
  } catch (exc) {
    showError(exc);
    fill(main, h("div.notice.error", h("h1", "This page could not load"), h("p", exc instanceof Error ? exc.message : String(exc))));
  }
}

/**
 * The sidebar, the top bar and the page's place.
 * @param {Me} user
 * @param {string} active
 * @param {HTMLElement} main
 */
function shell(user, active, main) {
  const project = currentProject();
  /** @param {"videos" | "keys" | "webhooks" | "analytics" | "projects" | "admin"} name @param {string} label */
  const link = (name, label) =>
    h(`a.navlink${name === active ? ".active" : ""}`, { href: `${BASE}/${name}`, "data-nav": name }, icon(name), label);
  const picker = /** @type {HTMLSelectElement} */ (
    h("select.project-picker", { "aria-label": "Project" },
      projects.map((p) => h("option", { value: p.id, selected: project?.id === p.id }, p.name)))
  );
  picker.addEventListener("change", () => {
    pickProject(picker.value);
    navigate(active === "keys" || active === "webhooks" || active === "analytics" ? `/${active}` : "/videos");
  });
  const menu = h("button.menu-toggle", { type: "button", "aria-label": "Menu" }, "☰");
  const side = h(
    "nav.sidebar",
    h("a.brand", { href: `${BASE}/` }, h("span.logo", "▶"), "streamcore"),
    h("div.navgroup",
      h("small", "Project"),
      projects.length ? picker : h("a.muted", { href: `${BASE}/projects` }, "No project yet"),
      link("videos", "Videos"),
      link("keys", "API keys"),
      link("webhooks", "Webhooks"),
      link("analytics", "Analytics"),
    ),
    h("div.navgroup",
      h("small", "Account"),
      link("projects", "Projects"),
      user.is_superadmin ? link("admin", "Admin") : null,
    ),
  );
  menu.addEventListener("click", () => side.classList.toggle("open"));
  const signOutBtn = h("button.btn.ghost.small", { type: "button" }, "Sign out");
  signOutBtn.addEventListener("click", () => {
    history.replaceState(null, "", `${BASE}/signin`);
    void signOut();
  });
  const top = h(
    "header.topbar",
    menu,
    h("div.crumb", project ? project.name : "streamcore"),
    h("div.spacer"),
    h("span.live", { title: "Live updates (Socket.IO)" }, h("span.dot"), "live"),
    h("span.user", user.email, user.is_superadmin ? h("span.badge.admin", "super-admin") : null),
    signOutBtn,
  );
  return h("div.layout", side, h("div.main", top, main));
}

document.addEventListener("click", (event) => {
  const target = /** @type {Element} */ (event.target);
  const a = target.closest ? target.closest("a") : null;
  if (!a || a.target || a.hasAttribute("download") || event.ctrlKey || event.metaKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  event.preventDefault();
  document.querySelector(".sidebar")?.classList.remove("open");
  navigate(url.pathname.slice(BASE.length) || "/");
});

window.addEventListener("popstate", () => void route());
onSignedOut(() => {
  me = null;
  closeRealtime();
  void route();
});
void route();
