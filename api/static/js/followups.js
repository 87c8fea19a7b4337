/* 抄送 and 催办 on the case, task and work-list pages: copy a case, mark a copy read, urge an open step. */
"use strict";

/** The values chosen in a multiple select (the 抄送 picker). */
function picked(id) {
  return [...document.getElementById(id).selectedOptions].map((o) => o.value);
}

/** The first problem of an error body, for people: its message, then the fields it names. */
function problem(body) {
  const fields = Object.values((body && body.fields) || {}).flat();
  return [body && body.message, ...fields].filter(Boolean).join(" — ");
}

const ccForm = document.getElementById("cc-form");
if (ccForm) {
  ccForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = document.getElementById("cc-result");
    const response = await tongban.api("POST", ccForm.dataset.url, {
      users: picked("cc-users"),
      roles: picked("cc-roles"),
      reason: document.getElementById("cc-reason").value || null,
    });
    result.textContent = response.status === 201 ? `✓ ${response.body.copied.join(", ")}` : problem(response.body);
    result.className = response.status === 201 ? "ok" : "alert";
    if (response.status === 201) ccForm.reset();
  });
}

document.querySelectorAll("button.mark-read").forEach((button) => {
  button.addEventListener("click", async () => {
    const response = await tongban.api("POST", button.dataset.url);
    if (response.status !== 200) { alert(problem(response.body)); return; }
    const cell = button.closest(".read-status");
    const badge = Object.assign(document.createElement("span"), {className: "badge read", textContent: button.dataset.read});
    cell.replaceChildren(badge);
    cell.closest("tr").classList.remove("unread");
  });
});

document.querySelectorAll("button.urge").forEach((button) => {
  button.addEventListener("click", async () => {
    const message = document.getElementById("urge-message");
    const reason = document.getElementById("urge-reason");
    if (!reason.reportValidity()) return;  /* 催办 says why: the holders are told it */
    const response = await tongban.api("POST", button.dataset.url, {reason: reason.value});
    if (response.status === 201) {
      button.closest("li").querySelector(".urge-count").textContent = response.body.urges;
      button.disabled = true;
      message.hidden = true;
    } else {
      message.textContent = problem(response.body);
      message.hidden = false;
    }
  });
});
