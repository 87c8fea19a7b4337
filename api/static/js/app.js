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

  /** A bpmn-js viewer in `container` showing the diagram at its data-url; null, with the container saying so,
      when there is none to show (a version drawn without a layout, no BPMNDiagram) instead of failing the page. */
  async viewer(container) {
    const viewer = new BpmnJS({container});
    try {
      const response = await fetch(container.dataset.url, {credentials: "same-origin"});
      if (!response.ok) throw new Error(container.dataset.none);
      await viewer.importXML(await response.text());
      return viewer;
    } catch (error) {
      viewer.destroy();
      container.textContent = container.dataset.none || String(error.message || error);
      container.classList.add("no-diagram");
      container.dataset.ready = "true";
      return null;
    }
  },
};

/* The buttons a page's script drives are rendered disabled with data-script: clicked before the script had run,
   they did nothing (or, in a form, sent it the browser's way). Every page script has run by DOMContentLoaded. */
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-script][disabled]").forEach((el) => { el.disabled = false; });
});
