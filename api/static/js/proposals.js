/* 加签审批: a supervisor lets an outside co-signer in, or refuses it with a reason. */
"use strict";

(function proposals() {
  const reason = document.getElementById("proposal-reason");
  const error = document.getElementById("proposal-error");
  document.querySelectorAll("#proposals button.decide").forEach((button) => button.addEventListener("click", async () => {
    const approve = button.dataset.approve === "true";
    if (!approve && !reason.value.trim()) {
      reason.required = true; reason.reportValidity(); reason.focus(); return;
    }
    const response = await tongban.api("POST", button.dataset.url, {approve, reason: reason.value.trim() || null});
    if (response.status === 200) { window.location.reload(); return; }
    error.textContent = response.body.message; error.hidden = false;
  }));
})();
