// Sign in with email and password (POST /auth/login).

import { signIn } from "./api.js";
import { fill, h } from "./dom.js";

/**
 * @param {HTMLElement} root
 * @param {() => void} done
 */
export function renderSignIn(root, done) {
  const email = /** @type {HTMLInputElement} */ (h("input", { type: "email", name: "email", autocomplete: "username", required: true, placeholder: "you@example.com" }));
  const password = /** @type {HTMLInputElement} */ (h("input", { type: "password", name: "password", autocomplete: "current-password", required: true }));
  const error = h("p.form-error", { role: "alert", hidden: true });
  const submit = /** @type {HTMLButtonElement} */ (h("button.btn.primary.wide", { type: "submit" }, "Sign in"));
  const form = h(
    "form.signin-card",
    h("div.brand.big", h("span.logo", "▶"), "streamcore"),
    h("h1", "Sign in to the console"),
    h("p.sub", "Upload, watch and manage your videos."),
    h("label.field", h("span", "Email"), email),
    h("label.field", h("span", "Password"), password),
    error,
    submit,
    h("p.muted.small", "No account? An operator makes one with ", h("code", "streamcore admin create-user"), "."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = "Signing in…";
    error.hidden = true;
    try {
      await signIn(email.value.trim(), password.value);
      done();
    } catch (exc) {
      error.hidden = false;
      error.textContent = exc instanceof Error ? exc.message : String(exc);
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });
  fill(root, h("div.signin", form));
  email.focus();
}
