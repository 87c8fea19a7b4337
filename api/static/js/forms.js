/* Render a task's JSON Schema with json-editor and show every failing field the server reports. */
"use strict";

/* json-editor "cleans" every string by parsing it as HTML in a detached element: that alters what people
   typed and runs case data through the HTML parser (an <img onerror> would fire but for the CSP). Values
   and titles are always put into the page as text, so keep them exactly as they are. */
JSONEditor.AbstractEditor.prototype.purify = (value) => value;
JSONEditor.AbstractEditor.prototype.cleanText = (value) => value;

/* json-editor's own messages in Chinese (the server's 422 messages are bilingual already). */
JSONEditor.defaults.languages.zh = Object.assign({}, JSONEditor.defaults.languages.en, {
  error_notset: "必须填写", error_notempty: "必须填写", error_enum: "请从列表中选择", error_const: "必须确认",
  error_type: "类型应为 {{0}}", error_maximum_incl: "不能大于 {{0}}", error_minimum_incl: "不能小于 {{0}}",
  error_maximum_excl: "必须小于 {{0}}", error_minimum_excl: "必须大于 {{0}}",
  error_maxLength: "最多 {{0}} 个字", error_minLength: "至少 {{0}} 个字", error_pattern: "格式不正确",
  error_maxItems: "最多 {{0}} 项", error_minItems: "至少 {{0}} 项", error_uniqueItems: "不能重复",
  error_required: "必须填写“{{0}}”", error_date: "日期格式应为 {{0}}", error_oneOf: "请按要求填写",
  error_multipleOf: "须为 {{0}} 的整数倍",
  button_add_row_title: "添加{{0}}", button_delete_last_title: "删除最后一项", button_delete_row_title: "删除",
  button_delete_all_title: "全部删除",
});
JSONEditor.defaults.language = document.documentElement.lang === "en" ? "en" : "zh";

/** json-editor speaks draft-07 with its own hints: translate our schema and UI schema into them. */
function adaptSchema(schema, ui) {
  const copy = JSON.parse(JSON.stringify(schema || {type: "object"}));
  delete copy.$schema;
  delete copy["x-rules"];
  (function walk(node, hints) {
    if (!node || typeof node !== "object") return;
    /* json-editor renders if/then/else as switching sub-forms and drops the fields only a branch requires;
       show every field instead and leave conditional requirements to the server's 422 (it lists them all). */
    const unfold = (part) => {  /* fields only a branch declares (延期理由 when 申请延期) are shown too */
      [part.then, part.else].forEach((branch) => {
        if (branch && branch.properties) node.properties = Object.assign({}, branch.properties, node.properties || {});
      });
      delete part.if; delete part.then; delete part.else;
    };
    unfold(node);
    if (Array.isArray(node.allOf)) {
      node.allOf.forEach(unfold);
      node.allOf = node.allOf.filter((part) => Object.keys(part).length);
      if (!node.allOf.length) delete node.allOf;
    }
    if (Array.isArray(node.oneOf) && node.oneOf.every((o) => "const" in o)) {
      node.enum = node.oneOf.map((o) => o.const);
      node.options = Object.assign(node.options || {}, {enum_titles: node.oneOf.map((o) => o.title || String(o.const))});
      delete node.oneOf;
    }
    const widget = hints && hints["ui:widget"];
    if (widget === "textarea") node.format = "textarea";
    if (widget === "radio") node.format = "radio";
    if (widget === "checkboxes" && node.type === "array") { node.format = "checkbox"; node.uniqueItems = true; }
    if (hints && hints["ui:help"]) node.description = hints["ui:help"];
    if (node.type === "boolean") node.format = "checkbox";
    if (node.properties) {
      fileFields(node, hints).forEach((name) => {  /* uploaded beside the form: see mountFileFields */
        delete node.properties[name];
        if (node.required) node.required = node.required.filter((r) => r !== name);
      });
      const names = Object.keys(node.properties);
      /* json-editor leaves out every property its schema does not require; list all as required so all are
         shown, and let the server (which knows the real required set, conditionals included) report gaps. */
      node.required = names;
      const order = (hints && hints["ui:order"]) || names;  /* else the schema's own order */
      names.forEach((name) => {
        const child = node.properties[name];
        const at = order.indexOf(name);
        child.propertyOrder = at >= 0 ? at + 1 : order.length + names.indexOf(name) + 1;
        walk(child, hints && hints[name]);
      });
    }
    if (node.items) walk(node.items, hints && hints.items);
  })(copy, ui || {});
  return copy;
}

/** The case data holds every step's fields: prefill only this form's own. */
function ownFields(schema, data) {
  const names = Object.keys((schema && schema.properties) || {});
  return Object.fromEntries(Object.entries(data || {}).filter(([name]) => names.includes(name)));
}

function renderForm(container, schema, ui, data) {
  const editor = new JSONEditor(container, {
    schema: adaptSchema(schema, ui), startval: ownFields(schema, data), theme: "html", iconlib: null,
    disable_collapse: true, disable_edit_json: true, disable_properties: true, disable_array_reorder: true,
    no_additional_properties: false, show_errors: "change", display_required_only: false,
    required_by_default: false,
  });
  editor.on("ready", () => {
    Object.getPrototypeOf(editor.validator)._validateNumberSubSchemaMultipleDivisible = checkMultipleOf;
  });
  return editor;
}

/** json-editor checks multipleOf by float division, so 0.07 yuan is "not a multiple of 0.01"
    (0.07 / 0.01 = 7.000000000000001); compare the decimal numbers exactly, as the server does. */
function checkMultipleOf(schema, value, path) {
  const step = schema.multipleOf || schema.divisibleBy;
  return isMultiple(value, step) ? [] : [{path, property: schema.multipleOf ? "multipleOf" : "divisibleBy",
                                          message: this.translate("error_multipleOf", [step], schema)}];
}

function isMultiple(value, step) {
  const texts = [value, step].map(String);
  if (texts.some((t) => /e/i.test(t))) return Math.abs(value / step - Math.round(value / step)) < 1e-9;
  const places = Math.max(...texts.map((t) => (t.split(".")[1] || "").length));
  const [v, s] = texts.map((t) => { const [whole, part = ""] = t.split("."); return BigInt(whole + part.padEnd(places, "0")); });
  return s !== 0n && v % s === 0n;
}

/** An optional field left empty is absent, not "" (which would fail its pattern or length on the server);
    json-editor's own remove_empty_properties would also hide every optional field. */
function compact(value) {
  const blank = (v) => v === "" || v === null || v === undefined || (Array.isArray(v) && !v.length);
  if (Array.isArray(value)) return value.map(compact).filter((v) => !blank(v));
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]).filter(([, v]) => !blank(v)));
}

/** The value without the fields the form only shows (readOnly): the server refuses any field a step may not
    write, so what a reviewer was shown is not sent back. */
function writable(schema, value) {
  if (!schema || !value || typeof value !== "object" || Array.isArray(value)) return value;
  const properties = schema.properties || {};
  return Object.fromEntries(Object.entries(value)
    .filter(([k]) => !(properties[k] && properties[k].readOnly))
    .map(([k, v]) => [k, writable(properties[k], v)]));
}

/** Top-level fields whose UI widget is "files": uploaded beside the form, their value the attachment ids. */
function fileFields(schema, ui) {
  return Object.keys((schema && schema.properties) || {}).filter((name) => ((ui || {})[name] || {})["ui:widget"] === "files");
}

/** An uploader for each file field, under the form; returns {field: ids} that submitting adds to the data. */
function mountFileFields(schema, ui, data, instanceId, taskId) {
  const form = document.getElementById("form");
  const values = {};
  fileFields(schema, ui).reverse().forEach((name) => {
    const many = schema.properties[name].type === "array";
    const initial = (data || {})[name];
    values[name] = many ? [...(initial || [])] : initial;
    const box = document.createElement("div");
    box.className = "uploader";
    if (instanceId) box.dataset.instance = instanceId;
    if (taskId) box.dataset.task = taskId;
    const title = document.createElement("strong");
    title.textContent = schema.properties[name].title || name;
    const list = document.createElement("ul");
    const label = document.createElement("label");
    label.className = "button";
    label.textContent = "选择文件 (choose files)";
    const input = Object.assign(document.createElement("input"), {type: "file", multiple: true, hidden: true});
    input.setAttribute("aria-label", title.textContent);
    label.appendChild(input);
    const bar = Object.assign(document.createElement("progress"), {max: 1, value: 0, hidden: true});
    const message = Object.assign(document.createElement("span"), {className: "upload-message"});
    box.append(title, list, label, bar, message);
    form.after(box);
    attachments.mount(box, (view) => {
      if (many) values[name].push(String(view.id)); else values[name] = String(view.id);
      list.appendChild(attachments.item(instanceId, view));
    });
  });
  return values;
}

/** 422 `fields` ({"/mobile": ["…"]}) → messages beside the inputs and a summary list. */
function showFieldErrors(editor, list, response) {
  list.replaceChildren();
  const fields = (response.body && response.body.fields) || {};
  const errors = [];
  Object.entries(fields).forEach(([pointer, messages]) => {
    const path = "root" + pointer.replace(/\//g, ".").replace(/\.$/, "");
    messages.forEach((message) => {
      errors.push({path, property: "server", message});
      const item = document.createElement("li");
      const field = editor.getEditor(path);
      item.textContent = `${(field && field.schema.title) || pointer}: ${message}`;
      list.appendChild(item);
    });
  });
  if (!errors.length) {
    const item = document.createElement("li");
    item.textContent = (response.body && response.body.message) || `HTTP ${response.status}`;
    list.appendChild(item);
  }
  editor.root.showValidationErrors(errors);
  list.hidden = false;
  list.scrollIntoView({block: "nearest"});
}

/** Wire the page's #form / #submit / #form-errors; `send(data)` performs the request. */
function mountForm(send, onDone, instanceId, taskId) {
  const container = document.getElementById("form");
  const schema = tongban.embedded("form-schema");
  const ui = tongban.embedded("form-ui");
  const data = tongban.embedded("form-data");
  const editor = renderForm(container, schema, ui, data);
  const files = mountFileFields(schema, ui, data, instanceId, taskId);
  const missingFiles = () => fileFields(schema, ui).filter(
    (name) => (schema.required || []).includes(name) && !(files[name] && files[name].length));
  const button = document.getElementById("submit");
  const list = document.getElementById("form-errors");
  button.addEventListener("click", async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));  /* json-editor applies the last edit asynchronously */
    const empty = (path) => { const field = editor.getEditor(path); return field && field.getValue() === ""; };
    const local = editor.validate().filter((e) => e.property !== "required" && !empty(e.path)).concat(missingFiles().map(
      (name) => ({path: `root.${name}`, message: `请上传“${schema.properties[name].title || name}” (upload required)`})));
    if (local.length) {
      editor.root.showValidationErrors(local);
      list.replaceChildren(...local.map((e) => {
        const field = editor.getEditor(e.path);
        const label = field && field !== editor.root ? `${field.schema.title || e.path}: ` : "";
        return Object.assign(document.createElement("li"), {textContent: label + e.message});
      }));
      list.hidden = false;
      return;
    }
    button.disabled = true;
    try {
      const response = await send(Object.assign(writable(schema, compact(editor.getValue())), files));
      if (response.status >= 200 && response.status < 300) onDone(response.body);
      else showFieldErrors(editor, list, response);
    } finally {
      button.disabled = false;
    }
  });
  return editor;
}
