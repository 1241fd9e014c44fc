// Small DOM helpers: elements, toasts, dialogs, badges, progress bars, copy buttons.

/**
 * @typedef {string | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Attrs
 */

/**
 * An element: h("button.primary", {onclick: fn}, "Save").
 * @param {string} tag tag name with optional .classes and #id
 * @param {Attrs | Child | Child[]} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const idMatch = tag.match(/#([\w-]+)/);
  const id = idMatch ? idMatch[1] : "";
  const [tagName, ...classes] = tag.replace(/#[\w-]+/, "").split(".");
  const el = document.createElement(tagName || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  if (attrs && typeof attrs === "object" && !(attrs instanceof Node) && !Array.isArray(attrs)) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
      else if (key === "class") el.className += ` ${value}`;
      else if (value === true) el.setAttribute(key, "");
      else el.setAttribute(key, String(value));
    }
  } else {
    children.unshift(/** @type {Child | Child[]} */ (attrs));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/**
 * Replace an element's content.
 * @param {Element} el
 * @param {...(Child | Child[])} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * A message in the corner for a few seconds.
 * @param {string} text
 * @param {"ok" | "error" | "info"} [kind]
 */
export function toast(text, kind = "info") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const close = h("button.toast-close", { type: "button", "aria-label": "Dismiss" }, "×");
  const el = h(`div.toast.${kind}`, { role: kind === "error" ? "alert" : "status" }, h("span", text), close);
  close.addEventListener("click", () => el.remove());
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

/**
 * An error in words, as a toast (and in the console for the developer).
 * @param {unknown} exc
 * @param {string} [what] what was being done
 */
export function showError(exc, what) {
  const text = exc instanceof Error ? exc.message : String(exc);
  const name = exc && typeof exc === "object" && "error" in exc ? ` (${String(exc.error)})` : "";
  toast(what ? `${what}: ${text}${name}` : `${text}${name}`, "error");
}

/**
 * Ask before something that cannot be undone.
 * @param {string} title
 * @param {string} body
 * @param {string} action the confirm button's label
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, body, action) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ (h("dialog.dialog"));
    /** @param {boolean} value */
    const done = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    fill(
      dialog,
      h("h2", title),
      h("p", body),
      h(
        "div.actions",
        h("button.btn", { type: "button", onclick: () => done(false) }, "Cancel"),
        h("button.btn.danger", { type: "button", onclick: () => done(true) }, action),
      ),
    );
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A secret shown once, with a copy button.
 * @param {string} label
 * @param {string} secret
 */
export function secretBox(label, secret) {
  return h(
    "div.secret",
    h("p", h("strong", label), " It is shown only this once: copy it now."),
    h("div.copyrow", h("code.secret-value", secret), copyButton(secret)),
  );
}

/**
 * @param {string} text
 * @param {string} [label]
 */
export function copyButton(text, label = "Copy") {
  const btn = h("button.btn.small", { type: "button" }, label);
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      btn.textContent = "Copied";
    } catch {
      // No clipboard permission (plain http): select the text for a manual copy.
      const code = btn.parentElement?.querySelector("code, textarea");
      if (code) window.getSelection()?.selectAllChildren(code);
      btn.textContent = "Press Ctrl+C";
    }
    setTimeout(() => (btn.textContent = label), 2000);
  });
  return btn;
}

const BADGES = {
  ready: "ok",
  failed: "bad",
  cancelled: "muted",
  deleting: "muted",
  deleted: "muted",
  awaiting_upload: "muted",
  retrying: "warn",
  succeeded: "ok",
  dead: "bad",
  delivered: "ok",
  pending: "warn",
  enabled: "ok",
  disabled: "muted",
  queued: "busy",
  running: "busy",
  none: "muted",
};

/** @param {string} status */
export function badge(status) {
  const kind = /** @type {Record<string, string>} */ (BADGES)[status] || "busy";
  return h(`span.badge.${kind}`, { "data-status": status }, status.replace(/_/g, " "));
}

/**
 * @param {number} percent 0..100
 * @param {string} [label]
 */
export function progressBar(percent, label) {
  const bar = h("div.progress", { role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 });
  setProgress(bar, percent, label);
  return bar;
}

/**
 * @param {HTMLElement} bar
 * @param {number} percent
 * @param {string} [label]
 */
export function setProgress(bar, percent, label) {
  const p = Math.max(0, Math.min(100, percent));
  bar.setAttribute("aria-valuenow", String(Math.round(p)));
  fill(bar, h("div.fill", { style: `width:${p}%` }), label ? h("span.label", label) : null);
}

/**
 * A page's empty state.
 * @param {string} title
 * @param {string} text
 * @param {Child} [action]
 */
export function empty(title, text, action) {
  return h("div.empty", h("div.empty-icon", icon("film")), h("h3", title), h("p", text), action || null);
}

/**
 * A date as the reader's locale shows it.
 * @param {string | null | undefined} iso
 */
export function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * A page header: title, subtitle and actions.
 * @param {string} title
 * @param {Child} [sub]
 * @param {...Child} actions
 */
export function pageHead(title, sub, ...actions) {
  return h("header.pagehead", h("div", h("h1", title), sub ? h("p.sub", sub) : null), h("div.actions", actions));
}

/**
 * A field with its label.
 * @param {string} label
 * @param {HTMLElement} input
 * @param {string} [hint]
 */
export function field(label, input, hint) {
  return h("label.field", h("span", label), input, hint ? h("small", hint) : null);
}

/**
 * Run an action from a button, disabling it meanwhile; errors become toasts.
 * @param {HTMLButtonElement | HTMLElement} btn
 * @param {string} what what is being done, for the error message
 * @param {() => Promise<void>} fn
 */
export async function busy(btn, what, fn) {
  btn.setAttribute("disabled", "");
  try {
    await fn();
  } catch (exc) {
    showError(exc, what);
  } finally {
    btn.removeAttribute("disabled");
  }
}

/** Stroke icons (24x24 paths) for the navigation. */
const ICONS = {
  videos: "M4 5h16v14H4z M10 9l5 3-5 3z",
  keys: "M21 2l-2 2m-7.6 7.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4",
  webhooks: "M7 7h11l-3-3 M17 17H6l3 3",
  analytics: "M4 20V10 M10 20V4 M16 20v-7 M22 20H2",
  projects: "M4 4h7v7H4z M13 4h7v7h-7z M4 13h7v7H4z M13 13h7v7h-7z",
  upload: "M12 16V4 M7 9l5-5 5 5 M4 16v4h16v-4",
  lock: "M6 11h12v10H6z M8 11V7a4 4 0 0 1 8 0v4",
  film: "M4 4h16v16H4z M8 4v16 M16 4v16 M4 8h4 M4 12h4 M4 16h4 M16 8h4 M16 12h4 M16 16h4",
  admin: "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z M12 2v3 M12 19v3 M2 12h3 M19 12h3 M4.9 4.9l2.1 2.1 M17 17l2.1 2.1 M4.9 19.1L7 17 M17 7l2.1-2.1",
};

/** @param {keyof typeof ICONS} name */
export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.8");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return h("span.icon", svg);
}
