/* Work one task: claim / unclaim, complete with the form, comments. */
"use strict";

const submit = document.getElementById("submit");
/* a 委派 delegate gives the form back with an opinion; everyone else completes it */
const giveBack = submit.dataset.mode === "return";
window.taskForm = mountForm((data) => tongban.api("POST", submit.dataset.url,
                                giveBack ? {data, opinion: document.getElementById("return-opinion").value} : {data}),
          () => { window.location.href = submit.dataset.next; }, submit.dataset.instance, submit.dataset.task);

document.querySelectorAll("[data-action]").forEach((button) => {
  button.addEventListener("click", async () => {
    const response = await tongban.api("POST", button.dataset.url);
    if (response.status === 200) window.location.reload();
    else alert(response.body.message);
  });
});

const comments = document.getElementById("comments");

async function loadComments() {
  const response = await tongban.api("GET", comments.dataset.url);
  comments.replaceChildren(...(response.body || []).map((c) => {
    const item = document.createElement("li");
    const who = document.createElement("strong");
    who.textContent = c.author || c.user || "";
    const text = document.createElement("span");
    text.textContent = ` ${c.body}`;  /* textContent: a comment is never parsed as HTML */
    item.append(who, text);
    return item;
  }));
}

document.getElementById("comment-send").addEventListener("click", async (event) => {
  const body = document.getElementById("comment-body");
  const response = await tongban.api("POST", event.target.dataset.url, {body: body.value});
  if (response.status === 201) { body.value = ""; loadComments(); } else alert(response.body.message);
});
loadComments();

/* Delegate to a colleague with the same role in the same organisation. */
(async function delegation() {
  const select = document.getElementById("delegate-to");
  if (!select) return;  /* 转办 is offered only to whoever may hand the task over */
  const response = await tongban.api("GET", select.dataset.url);
  (response.body || []).forEach((c) => select.appendChild(
    Object.assign(document.createElement("option"), {value: c.username, textContent: `${c.display_name} (${c.username})`})));
  document.getElementById("delegate").addEventListener("click", async (event) => {
    if (!select.value) return;
    const result = await tongban.api("POST", event.target.dataset.url, {user: select.value});
    if (result.status === 204) window.location.href = "/inbox"; else alert(result.body.message);
  });
  document.getElementById("delegate").disabled = false;  /* once there is someone to hand it to */
})();
