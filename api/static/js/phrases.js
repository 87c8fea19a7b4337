/* 常用意见 on the task page: the caller's saved phrases, inserted into the form's opinion field. */
"use strict";

(function phrases() {
  const box = document.getElementById("phrases");
  if (!box || !window.taskForm) return;
  const list = document.getElementById("phrase-list");
  const error = document.getElementById("phrase-error");
  const input = document.getElementById("phrase-text");
  /* the opinion field itself (a JSON pointer into the form), never an enclosing group */
  const field = () => {
    const found = window.taskForm.fieldAt(box.dataset.field);
    return found && found.pointer === box.dataset.field ? found : null;
  };

  function show(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function insert(text) {
    const opinion = field();
    if (!opinion) return;
    const current = opinion.value() || "";
    opinion.set(current ? `${current}${/[。；，\s]$/.test(current) ? "" : "；"}${text}` : text);
    const control = (opinion.controls || [])[0];
    if (control) control.dispatchEvent(new Event("input", {bubbles: true}));  /* the draft and the checks see it */
    opinion.focus();
  }

  async function load() {
    const response = await tongban.api("GET", box.dataset.url);
    list.replaceChildren(...(response.body || []).map((p) => {
      const item = document.createElement("li");
      const use = Object.assign(document.createElement("button"), {type: "button", className: "phrase",
                                                                   textContent: p.text});
      use.setAttribute("aria-label", `${box.dataset.insertLabel}: ${p.text}`);
      use.addEventListener("click", () => insert(p.text));
      const remove = Object.assign(document.createElement("button"), {type: "button", className: "phrase-delete",
                                                                      textContent: "×"});
      remove.setAttribute("aria-label", `${box.dataset.deleteLabel}: ${p.text}`);
      remove.addEventListener("click", async () => {
        const result = await tongban.api("DELETE", `${box.dataset.url}/${p.id}`);
        if (result.status === 204) { show(""); load(); } else show(result.body && result.body.message);
      });
      item.append(use, remove);
      return item;
    }));
  }

  async function save(text) {
    const response = await tongban.api("POST", box.dataset.add, {text});
    if (response.status === 201) { show(""); input.value = ""; load(); }
    else show((response.body && response.body.message) || `HTTP ${response.status}`);
  }

  document.getElementById("phrase-save").addEventListener("click", () => save(input.value));
  input.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); save(input.value); } });
  document.getElementById("phrase-save-current").addEventListener("click", () => {
    const opinion = field();
    save(opinion ? opinion.value() || "" : "");
  });
  load();
})();
