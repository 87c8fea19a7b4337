/* Files of a case: list and upload with a progress bar (the server checks size and type by content). */
"use strict";

const attachments = {
  async list(instanceId) {
    const response = await tongban.api("GET", `/api/v1/instances/${instanceId}/attachments`);
    return response.status === 200 ? response.body : [];
  },

  /** Where a file goes: the case's files, or (no case yet: a start form) the uploader's drafts. */
  url(instanceId) {
    return instanceId ? `/api/v1/instances/${instanceId}/attachments` : "/api/v1/uploads";
  },

  /** Upload one file; `progress(fraction)` while it goes; resolves to {status, body}. */
  upload(instanceId, file, taskId, progress) {
    return new Promise((resolve) => {
      const form = new FormData();
      form.append("file", file);
      if (taskId) form.append("task_id", taskId);
      const request = new XMLHttpRequest();
      request.open("POST", this.url(instanceId));
      request.setRequestHeader("X-CSRFToken", tongban.csrf);
      request.upload.addEventListener("progress", (e) => e.lengthComputable && progress(e.loaded / e.total));
      request.addEventListener("load", () => resolve({status: request.status, body: JSON.parse(request.responseText || "null")}));
      request.addEventListener("error", () => resolve({status: 0, body: {message: "网络错误 (network error)"}}));
      request.send(form);
    });
  },

  /** A download link for a case's file, or the name of a draft (no case to download from yet). */
  item(instanceId, a) {
    const li = document.createElement("li");
    const link = document.createElement(instanceId ? "a" : "span");
    if (instanceId) link.href = this.href(instanceId, a);
    link.textContent = a.filename;  /* a file name is text, never markup */
    const meta = document.createElement("span");
    meta.className = "muted";
    meta.textContent = ` ${this.size(a.size)}${a.uploaded_by ? ` · ${a.uploaded_by}` : ""}`;
    li.append(link, meta);
    return li;
  },

  href(instanceId, a) {
    return `/api/v1/instances/${instanceId}/attachments/${a.id}`;
  },

  size(bytes) {
    if (bytes === undefined) return "";
    return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
  },

  /** A file picker with progress under `root` (data-instance, optional data-task); calls onUploaded(view). */
  mount(root, onUploaded) {
    const input = root.querySelector("input[type=file]");
    const bar = root.querySelector("progress");
    const message = root.querySelector(".upload-message");
    if (!input) return;  /* a finished case takes no more files */
    input.addEventListener("change", async () => {
      for (const file of input.files) {
        bar.hidden = false;
        bar.value = 0;
        message.textContent = file.name;
        const result = await this.upload(root.dataset.instance, file, root.dataset.task, (f) => { bar.value = f; });
        bar.hidden = true;
        if (result.status === 201) {
          message.textContent = `✓ ${file.name}`;
          onUploaded(result.body);
        } else {
          message.textContent = `${file.name}: ${(result.body && result.body.message) || result.status}`;
          message.classList.add("alert");
        }
      }
      input.value = "";
    });
  },
};

/* The case page's own list of files. */
(async function casePage() {
  const root = document.getElementById("case-files");
  if (!root) return;
  const list = root.querySelector("ul");
  const refresh = async () => {
    const items = await attachments.list(root.dataset.instance);
    list.replaceChildren(...items.map((a) => attachments.item(root.dataset.instance, a)));
  };
  attachments.mount(root, refresh);
  refresh();
})();
