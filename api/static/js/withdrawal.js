/* 撤回 (the case page: the applicant's dialog, the office's decision) and 退回 (the task page). */
"use strict";

/** Show the API's message (and the failing fields') in the alert, or hide it. */
function showError(element, body) {
  const fields = Object.values((body && body.fields) || {}).flat();
  element.textContent = [body && body.message, ...fields].filter(Boolean).join(" ");
  element.hidden = !element.textContent;
}

(function withdrawal() {
  const dialog = document.getElementById("withdraw-dialog");
  if (dialog) {
    const form = document.getElementById("withdraw-form");
    const reason = document.getElementById("withdraw-reason");
    document.getElementById("withdraw-open").addEventListener("click", () => { dialog.showModal(); reason.focus(); });
    document.getElementById("withdraw-cancel").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await tongban.api("POST", form.dataset.url, {reason: reason.value});
      if (response.status === 200) window.location.reload();
      else showError(document.getElementById("withdraw-error"), response.body);
    });
  }
  const decision = document.getElementById("withdrawal-decision");
  if (decision) {
    decision.querySelectorAll("[data-grant]").forEach((button) => button.addEventListener("click", async () => {
      const reason = document.getElementById("withdrawal-opinion").value;
      const response = await tongban.api("POST", decision.dataset.url, {grant: button.dataset.grant === "true", reason});
      if (response.status === 200) window.location.reload();
      else showError(document.getElementById("withdrawal-decision-error"), response.body);
    }));
  }
})();

(function sendBack() {
  const box = document.getElementById("return");
  if (!box) return;
  document.getElementById("return-send").addEventListener("click", async () => {
    if (!window.confirm(box.dataset.confirm)) return;
    const response = await tongban.api("POST", box.dataset.url, {
      target: document.getElementById("return-target").value, reason: document.getElementById("return-reason").value});
    if (response.status === 200) window.location.href = box.dataset.next;
    else showError(document.getElementById("return-error"), response.body);
  });
})();
