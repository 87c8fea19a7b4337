/* A form field that holds attachments (UI widget "files"): a real, focusable file picker (Tab reaches it,
   Enter or Space opens it), upload with progress, a preview of each file, and removal. The field's value is
   the attachment ids (one id, or a list for an array field); a resubmission lists the files sent before. */
"use strict";

const fileText = {
  choose: ["选择文件", "Choose files"],
  chooseOne: ["选择文件", "Choose a file"],
  remove: ["移除", "Remove"],
  uploading: ["正在上传 {0}", "Uploading {0}"],
  uploaded: ["已上传 {0}", "Uploaded {0}"],
  removed: ["已移除 {0}", "Removed {0}"],
  none: ["尚未上传文件", "No file uploaded yet"],
  wait: ["文件仍在上传，请稍候", "a file is still uploading: please wait"],
  failed: ["{0} 上传失败：{1}", "{0} could not be uploaded: {1}"],
  progress: ["上传进度", "Upload progress"],
  earlier: ["此前提交的文件", "file sent earlier"],
};

attachments.context = {instanceId: null, taskId: null};
attachments.known = null;

/** The case's files by id (names, sizes, types of what a resubmission lists), fetched once per page. */
attachments.lookup = function lookup() {
  if (!this.known) {
    this.known = this.context.instanceId
      ? this.list(this.context.instanceId).then((items) => new Map(items.map((a) => [String(a.id), a])))
      : Promise.resolve(new Map());
  }
  return this.known;
};

attachments.fileField = function fileField(schema, ui, pointer, name, required) {
  const many = schema.type === "array";
  const field = fieldBase(schema, ui, pointer, name, required);
  const wrapper = frame(field, schema, ui);
  wrapper.classList.add("files-field");
  const group = element("fieldset", {className: "uploader"});
  const list = element("ul", {className: "files"});
  const input = element("input", {type: "file", id: field.id, name, multiple: many,
                                  accept: ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"});
  input.setAttribute("aria-describedby", field.describedBy);
  if (required) input.setAttribute("aria-required", "true");
  const bar = element("progress", {max: 1, value: 0, hidden: true});
  bar.setAttribute("aria-label", formcheck.say(fileText.progress));
  const status = element("span", {className: "upload-message"});
  status.setAttribute("role", "status");
  group.append(element("legend", {}, ...labelText(field.title, required)), list,
               element("label", {htmlFor: field.id, className: "picker"}, formcheck.say(many ? fileText.choose : fileText.chooseOne)),
               input, bar, status);
  wrapper.append(group, field.help, field.error);
  let views = [];
  let failures = [];
  field.files = true;
  field.uploading = false;
  field.controls = [input];

  const changed = () => wrapper.dispatchEvent(new Event("input", {bubbles: true}));
  const render = () => {
    if (!views.length) list.replaceChildren(element("li", {className: "muted", textContent: formcheck.say(fileText.none)}));
    else list.replaceChildren(...views.map((view) => fileItem(view, () => {
      views = views.filter((v) => v !== view);
      status.textContent = formcheck.say(fileText.removed, view.filename || `#${view.id}`);
      render();
      input.focus();
      changed();
    })));
  };

  field.value = () => (many ? views.map((v) => String(v.id)) : views[0] ? String(views[0].id) : undefined);
  field.everything = () => views.map(({id, filename, size, content_type: type, earlier}) => ({id, filename, size, content_type: type, earlier}));
  /** ids as stored in the case (a resubmission), or views kept in a draft */
  field.set = (value) => {
    views = [].concat(value ?? []).map((v) => (v && typeof v === "object" ? {...v} : {id: String(v), earlier: true}));
    render();
    attachments.lookup().then((known) => {
      views.forEach((v) => { if (known.has(String(v.id))) Object.assign(v, known.get(String(v.id))); });
      render();
    });
  };
  field.ownProblems = () => [...failures, ...(field.uploading ? [formcheck.say(fileText.wait)] : [])]
    .map((message) => ({pointer, message}));

  input.addEventListener("change", async () => {
    const chosen = [...input.files];
    input.value = "";
    failures = [];
    for (const file of chosen) {
      field.uploading = true;
      bar.hidden = false;
      bar.value = 0;
      status.textContent = formcheck.say(fileText.uploading, file.name);
      const result = await attachments.upload(attachments.context.instanceId, file, attachments.context.taskId,
                                              (f) => { bar.value = f; });
      bar.hidden = true;
      field.uploading = false;
      if (result.status === 201) {
        const view = {...result.body, preview: await imagePreview(file)};
        views = many ? [...views, view] : [view];
        status.textContent = formcheck.say(fileText.uploaded, file.name);
      } else {
        const reason = formcheck.serverText((result.body && result.body.message) || `HTTP ${result.status}`);
        failures.push(formcheck.say(fileText.failed, file.name, reason));
        status.textContent = failures[failures.length - 1];
      }
      render();
    }
    field.touched = true;
    changed();
  });
  render();
  return field;
};

/** One listed file: a thumbnail for an image, its name (a link for a case's file), size, and Remove. */
function fileItem(view, onRemove) {
  const instanceId = attachments.context.instanceId;
  const item = element("li", {className: "file"});
  const image = /^image\//.test(view.content_type || "");
  const source = view.preview || (image && instanceId ? attachments.href(instanceId, view) : null);
  if (source) item.append(element("img", {className: "thumb", src: source, alt: ""}));
  const label = view.filename || `#${view.id}`;
  const name = instanceId && view.filename
    ? element("a", {href: attachments.href(instanceId, view), target: "_blank", rel: "noopener", textContent: label})
    : element("span", {textContent: label});
  const meta = [attachments.size(view.size), view.earlier ? formcheck.say(fileText.earlier) : ""].filter(Boolean).join(" · ");
  const remove = element("button", {type: "button", className: "link", textContent: formcheck.say(fileText.remove)});
  remove.setAttribute("aria-label", `${formcheck.say(fileText.remove)} ${label}`);
  remove.addEventListener("click", onRemove);
  item.append(name, element("span", {className: "muted", textContent: meta ? ` ${meta} ` : " "}), remove);
  return item;
}

/** A small data: URL of an image just chosen (the CSP allows data: images, not blob:); none for other files. */
function imagePreview(file) {
  if (!/^image\/(png|jpeg|gif|webp)$/.test(file.type) || file.size > 5 * 1024 * 1024) return Promise.resolve(null);
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(reader.result));
    reader.addEventListener("error", () => resolve(null));
    reader.readAsDataURL(file);
  });
}
