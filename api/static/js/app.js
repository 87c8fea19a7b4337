/* Shared by every page: calls to the REST API with the session cookie and the CSRF header. */
"use strict";

const tongban = {
  csrf: document.querySelector('meta[name="csrf-token"]')?.content,

  /** JSON request to the API; resolves to {status, body}. */
  async api(method, url, payload) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": this.csrf, "Accept": "application/json"},
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    const text = await response.text();
    return {status: response.status, body: text ? JSON.parse(text) : null};
  },

  /** The JSON a page embeds in <script type="application/json" id=…> (no inline script: strict CSP). */
  embedded(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  },
};
