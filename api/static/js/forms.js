/* Render a step's JSON Schema as an accessible form: labels and help in the page's language, required
   markers, errors once a field is touched (or on submit) with one summary at the top that links to every
   field, conditional fields (if/then/else) shown only while their condition holds, file fields as uploaders.

   Field names follow `root[address][room]` and wrappers carry `data-schemapath="root.address.room"` and
   `data-pointer="/address/room"` (the pointer the server's 422 `fields` use). */
"use strict";

const formText = {
  choose: ["请选择…", "Choose…"],
  yes: ["是", "Yes"],
  no: ["否", "No"],
  add: ["添加", "Add"],
  remove: ["删除", "Remove"],
  requiredNote: ["带 * 号的为必填项", "Fields marked * are required"],
  summary: ["提交前请修改以下 {0} 处问题：", "Please correct {0} problem(s) before submitting:"],
  failed: ["提交未成功", "Not submitted"],
  item: ["第 {0} 项", "Item {0}"],
};

let fieldSerial = 0;

/** Every property an object may hold: its own, and those only an if/then/else branch declares. */
function allProperties(schema) {
  const properties = {...(schema.properties || {})};
  [schema, ...(schema.allOf || [])].forEach((part) => [part.then, part.else].forEach((branch) => {
    Object.entries((branch && branch.properties) || {}).forEach(([name, child]) => {
      if (!(name in properties)) properties[name] = child;
    });
  }));
  return properties;
}

/** Fields an if/then/else branch requires or declares and the object itself does not require: shown only
    while a branch naming them applies. Returns {name: [{when, negate, requires}]}. A UI hint
    `"ui:conditional": false` keeps a field always shown (a comment a branch only makes compulsory). */
function conditionalFields(schema, ui) {
  const out = {};
  const base = new Set(schema.required || []);
  [schema, ...(schema.allOf || [])].forEach((part) => {
    if (!part.if) return;
    [["then", false], ["else", true]].forEach(([key, negate]) => {
      const branch = part[key];
      if (!branch) return;
      const names = new Set([...(branch.required || []), ...Object.keys(branch.properties || {})]);
      names.forEach((name) => {
        if (base.has(name) || ((ui || {})[name] || {})["ui:conditional"] === false) return;
        (out[name] = out[name] || []).push({when: part.if, negate, requires: (branch.required || []).includes(name)});
      });
    });
  });
  return out;
}

/** An `if` decides only once the fields it reads are filled in: nothing chosen yet shows no branch. */
function conditionApplies(condition, value) {
  const reads = [...Object.keys(condition.when.properties || {}), ...(condition.when.required || [])];
  if (reads.some((name) => formcheck.blank(value[name]))) return false;
  return formcheck.holds(condition.when, value) !== condition.negate;
}

function choicesOf(schema) {
  if (Array.isArray(schema.oneOf) && schema.oneOf.every((o) => o && "const" in o)) {
    return schema.oneOf.map((o) => ({value: o.const, label: formcheck.text(o, "title") || String(o.const)}));
  }
  if (Array.isArray(schema.enum)) {
    const titles = (formcheck.english && schema["x-enum-titles-en"]) || schema["x-enum-titles"] || [];
    return schema.enum.map((v, i) => ({value: v, label: titles[i] || String(v)}));
  }
  if (schema.type === "boolean") return [{value: true, label: formcheck.say(formText.yes)}, {value: false, label: formcheck.say(formText.no)}];
  return null;
}

function element(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props || {});
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** The visible label of a field, with the required marker (the control itself carries aria-required). */
function labelText(title, required) {
  const parts = [document.createTextNode(title)];
  if (required) parts.push(element("span", {className: "req", textContent: " *", ariaHidden: "true"}));
  return parts;
}

/** The common frame of a field: wrapper, help text and error line, wired to the control by ids. */
function frame(field, schema, ui) {
  field.id = `f${++fieldSerial}`;
  const wrapper = element("div", {className: "field"});
  wrapper.dataset.pointer = field.pointer || "/";
  wrapper.dataset.schemapath = ["root", ...field.pointer.split("/").slice(1)].join(".");
  const help = [formcheck.text(schema, "description"), formcheck.text(ui, "ui:help")].filter(Boolean).join(" ");
  field.help = help ? element("p", {className: "help", id: `${field.id}-help`, textContent: help})
    : document.createDocumentFragment();  /* appends as nothing */
  field.error = element("p", {className: "field-error", id: `${field.id}-error`, hidden: true});
  field.wrapper = wrapper;
  field.describedBy = [field.help && field.help.id, field.error.id].filter(Boolean).join(" ");
  return wrapper;
}

/** Base behaviour every field shares: shown or not, touched, its own errors on the page. */
function fieldBase(schema, ui, pointer, name, required) {
  return {
    schema, ui: ui || {}, pointer, name, required, touched: false,
    title: formcheck.text(schema, "title") || pointer.split("/").pop(),
    shown() { return this.wrapper.isConnected && !this.wrapper.closest("[hidden]"); },
    showErrors(messages) {
      const has = messages.length > 0;
      this.error.hidden = !has;
      this.error.textContent = messages.join("；");
      this.wrapper.classList.toggle("invalid", has);
      (this.controls || []).forEach((c) => (has ? c.setAttribute("aria-invalid", "true") : c.removeAttribute("aria-invalid")));
    },
    focus() { (this.controls || [])[0]?.focus(); },
    fields() { return [this]; },
  };
}

/** Text, number, date, long text, a list to choose from, radio buttons or a tick box. */
function leafField(schema, ui, pointer, name, required) {
  const field = fieldBase(schema, ui, pointer, name, required);
  const wrapper = frame(field, schema, ui);
  const widget = field.ui["ui:widget"];
  const choices = choicesOf(schema);
  const isNumber = ["number", "integer"].includes(schema.type);
  const aria = (control) => {
    if (required) control.setAttribute("aria-required", "true");
    control.setAttribute("aria-describedby", field.describedBy);
    return control;
  };
  if (choices && widget === "radio") {  /* a yes/no question asked as 是 / 否 has no answer until one is picked */
    const group = element("fieldset", {className: "choices", id: field.id});
    group.setAttribute("role", "radiogroup");
    aria(group);
    group.append(element("legend", {}, ...labelText(field.title, required)));
    field.controls = choices.map((choice, i) => {
      const radio = element("input", {type: "radio", name, value: String(choice.value), id: `${field.id}-${i}`});
      group.append(element("label", {className: "choice"}, radio, ` ${choice.label}`));
      return radio;
    });
    wrapper.append(group, field.help, field.error);
    field.value = () => {
      const picked = field.controls.findIndex((r) => r.checked);
      return picked < 0 ? undefined : choices[picked].value;
    };
    field.set = (v) => field.controls.forEach((r, i) => { r.checked = choices[i].value === v; });
    return field;
  }
  if (schema.type === "boolean") {
    const box = aria(element("input", {type: "checkbox", name, id: field.id}));
    const mustTick = schema.const === true;
    if (!mustTick) box.removeAttribute("aria-required");
    wrapper.classList.add("tick");
    wrapper.append(element("label", {htmlFor: field.id}, box, " ", ...labelText(field.title, mustTick)), field.help, field.error);
    field.controls = [box];
    field.value = () => box.checked;
    field.set = (v) => { box.checked = v === true; };
    return field;
  }
  let control;
  if (choices) {
    control = element("select", {name, id: field.id},
                      element("option", {value: "", textContent: formcheck.say(formText.choose)}),
                      ...choices.map((c, i) => element("option", {value: String(i), textContent: c.label})));
    /* the option's value is its index: the values themselves may be numbers, and fill_form picks by value */
    [...control.options].slice(1).forEach((option, i) => { option.value = String(choices[i].value); });
  } else if (widget === "textarea") {
    control = element("textarea", {name, id: field.id, rows: (field.ui["ui:options"] || {}).rows || 3});
  } else {
    const type = schema.format === "date" ? "date" : schema.format === "email" ? "email" : "text";
    control = element("input", {type, name, id: field.id});
    if (isNumber) control.inputMode = schema.type === "integer" ? "numeric" : "decimal";
    if (schema.maxLength) control.maxLength = schema.maxLength;
  }
  aria(control);
  if ("const" in schema || field.ui["ui:readonly"]) { control.readOnly = true; control.value = schema.const ?? schema.default ?? ""; }
  wrapper.append(element("label", {htmlFor: field.id}, ...labelText(field.title, required)), control, field.help, field.error);
  field.controls = [control];
  field.value = () => {
    if ("const" in schema) return schema.const;
    const text = control.value;
    if (choices) return text === "" ? undefined : choices[control.selectedIndex - 1].value;
    if (text.trim() === "") return undefined;
    if (isNumber) return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : text;
    return text;
  };
  field.set = (v) => {
    if ("const" in schema) return;
    if (choices) { const at = choices.findIndex((c) => c.value === v); control.selectedIndex = at + 1; return; }
    control.value = v === undefined || v === null ? "" : String(v);
  };
  return field;
}

/** A list of tick boxes for an array of choices (ui:widget checkboxes). */
function checkboxesField(schema, ui, pointer, name, required) {
  const field = fieldBase(schema, ui, pointer, name, required);
  const wrapper = frame(field, schema, ui);
  const choices = choicesOf(schema.items) || [];
  const group = element("fieldset", {className: "choices", id: field.id});
  group.setAttribute("aria-describedby", field.describedBy);
  group.append(element("legend", {}, ...labelText(field.title, required)));
  field.controls = choices.map((choice, i) => {
    const box = element("input", {type: "checkbox", name: `${name}[]`, value: String(choice.value), id: `${field.id}-${i}`});
    group.append(element("label", {className: "choice"}, box, ` ${choice.label}`));
    return box;
  });
  wrapper.append(group, field.help, field.error);
  field.value = () => choices.filter((c, i) => field.controls[i].checked).map((c) => c.value);
  field.set = (v) => field.controls.forEach((box, i) => { box.checked = (v || []).includes(choices[i].value); });
  return field;
}

/** A list of entries (strings or objects) with add and remove buttons. */
function arrayField(schema, ui, pointer, name, required) {
  const field = fieldBase(schema, ui, pointer, name, required);
  const wrapper = frame(field, schema, ui);
  const group = element("fieldset", {className: "list", id: field.id});
  group.setAttribute("aria-describedby", field.describedBy);
  const rows = element("div", {className: "rows"});
  const add = element("button", {type: "button", className: "add",
                                 textContent: `${formcheck.say(formText.add)}${formcheck.english ? " " : ""}${field.title}`});
  group.append(element("legend", {}, ...labelText(field.title, required)), rows, add);
  wrapper.append(group, field.help, field.error);
  field.items = [];
  const render = (values) => {
    rows.replaceChildren();
    field.items = values.map((value, i) => {
      const item = build(schema.items || {type: "string"}, field.ui.items, `${pointer}/${i}`, `${name}[${i}]`, true,
                         formcheck.say(formText.item, i + 1));
      if (value !== undefined) item.set(value);
      const remove = element("button", {type: "button", className: "link remove",
                                        textContent: formcheck.say(formText.remove)});
      remove.setAttribute("aria-label", `${formcheck.say(formText.remove)} ${item.title}`);
      remove.addEventListener("click", () => {
        const kept = field.items.map((f) => f.value()).filter((_, j) => j !== i);
        render(kept);
        (field.items[Math.min(i, field.items.length - 1)] || {focus: () => add.focus()}).focus();
        wrapper.dispatchEvent(new Event("input", {bubbles: true}));
      });
      rows.append(element("div", {className: "row"}, item.wrapper, remove));
      return item;
    });
  };
  add.addEventListener("click", () => {
    render([...field.items.map((f) => f.value()), undefined]);
    field.items[field.items.length - 1].focus();
  });
  render(Array.from({length: schema.minItems || 0}, () => undefined));
  field.controls = [group];
  field.focus = () => (field.items[0] ? field.items[0].focus() : add.focus());
  field.value = () => field.items.map((f) => f.value()).filter((v) => !formcheck.blank(v));
  field.set = (v) => render(Array.isArray(v) && v.length ? v : Array.from({length: schema.minItems || 0}, () => undefined));
  field.fields = () => [field, ...field.items.flatMap((f) => f.fields())];
  return field;
}

/** A field shown for reading (readOnly): its stored value as text, never sent back. */
function readOnlyField(schema, ui, pointer) {
  const field = fieldBase(schema, ui, pointer, "", false);
  const wrapper = frame(field, schema, ui);
  const output = element("span", {className: "readonly-value", id: field.id});
  wrapper.classList.add("readonly");
  wrapper.append(element("span", {className: "label", textContent: field.title}), output, field.help);
  let stored;
  field.readOnly = true;
  field.value = () => stored;
  field.set = (v) => { stored = v; output.textContent = formatValue(schema, v); };
  field.set(undefined);
  return field;
}

/** A stored value as people read it: option titles for codes, lists joined. */
function formatValue(schema, value) {
  if (formcheck.blank(value)) return "—";
  const choices = choicesOf(schema || {});
  if (Array.isArray(value)) return value.map((v) => formatValue(schema.items || {}, v)).join("；");
  if (choices) return (choices.find((c) => c.value === value) || {label: String(value)}).label;
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${formcheck.text((schema.properties || {})[k], "title") || k}：${formatValue((schema.properties || {})[k], v)}`).join("，");
  }
  return String(value);
}

/** A group of fields (the form itself, or a nested object such as the address). */
function objectField(schema, ui, pointer, name, required, root) {
  const field = fieldBase(schema, ui, pointer, name, required);
  const wrapper = frame(field, schema, ui);
  const properties = allProperties(schema);
  const conditions = conditionalFields(schema, ui);
  const names = Object.keys(properties);
  const order = field.ui["ui:order"] || names;
  names.sort((a, b) => (order.includes(a) ? order.indexOf(a) : order.length + names.indexOf(a))
                     - (order.includes(b) ? order.indexOf(b) : order.length + names.indexOf(b)));
  const requiredNames = new Set(schema.required || []);
  const body = root ? wrapper : element("fieldset", {className: "group", id: field.id},
                                        element("legend", {}, ...labelText(field.title, required)));
  if (!root) wrapper.append(body, field.help, field.error);
  field.children = names.map((key) => {
    const child = properties[key];
    const hints = field.ui[key];
    const childPointer = `${pointer}/${key}`;
    const childName = `${name}[${key}]`;
    const needed = requiredNames.has(key) || (conditions[key] || []).some((c) => c.requires);
    const made = child.readOnly ? readOnlyField(child, hints, childPointer)
      : build(child, hints, childPointer, childName, needed);
    made.key = key;
    made.conditions = conditions[key] || null;
    body.append(made.wrapper);
    return made;
  });
  field.controls = [];
  field.focus = () => field.children.find((c) => c.shown() && !c.readOnly)?.focus();
  /** Everything entered and stored, hidden or not: what conditions and drafts read. */
  field.everything = () => Object.fromEntries(field.children.map((c) => [c.key, c.everything ? c.everything() : c.value()])
    .filter(([, v]) => !formcheck.blank(v)));
  /** What is sent: shown, writable fields only. */
  field.value = () => Object.fromEntries(field.children.filter((c) => !c.readOnly && !c.wrapper.hidden)
    .map((c) => [c.key, c.value()]).filter(([, v]) => !formcheck.blank(v) && !(formcheck.typeOf(v) === "object" && !Object.keys(v).length)));
  field.set = (v) => field.children.forEach((c) => { if (v && c.key in v) c.set(v[c.key]); });
  field.refresh = () => {
    const current = field.everything();
    field.children.forEach((c) => {
      if (c.conditions) c.wrapper.hidden = !c.conditions.some((condition) => conditionApplies(condition, current));
      if (c.refresh) c.refresh();
    });
  };
  field.fields = () => [field, ...field.children.flatMap((c) => c.fields())];
  return field;
}

/** The field for one schema node, by its type and UI hints. */
function build(schema, ui, pointer, name, required, title) {
  const hints = ui || {};
  let field;
  if (hints["ui:widget"] === "files") field = attachments.fileField(schema, hints, pointer, name, required);
  else if (schema.type === "object" || schema.properties) field = objectField(schema, hints, pointer, name, required, false);
  else if (schema.type === "array" && hints["ui:widget"] === "checkboxes") field = checkboxesField(schema, hints, pointer, name, required);
  else if (schema.type === "array") field = arrayField(schema, hints, pointer, name, required);
  else field = leafField(schema, hints, pointer, name, required);
  if (title && !schema.title) field.title = title;
  return field;
}

/** The case data holds every step's fields: prefill only this form's own. */
function ownFields(schema, data) {
  const names = Object.keys(allProperties(schema || {}));
  return Object.fromEntries(Object.entries(data || {}).filter(([name]) => names.includes(name)));
}

/** The form on the page: its fields, the checks, the summary of problems. */
function renderForm(container, schema, ui, data) {
  const form = objectField(schema, ui || {}, "", "root", false, true);
  container.replaceChildren(element("p", {className: "muted required-note", textContent: formcheck.say(formText.requiredNote)}),
                            form.wrapper);
  form.set(ownFields(schema, data));
  form.refresh();
  form.serverErrors = {};
  form.submitted = false;
  const byPointer = () => new Map(form.fields().filter((f) => f !== form).map((f) => [f.pointer, f]));
  /** The field a problem belongs to: itself, else the nearest enclosing field on the page. */
  form.fieldAt = (pointer) => {
    const fields = byPointer();
    for (let at = pointer; at; at = at.slice(0, at.lastIndexOf("/"))) if (fields.has(at)) return fields.get(at);
    return null;
  };
  form.problems = () => {
    const local = [];
    formcheck.check(schema, form.value(), "", local, (pointer) => { const f = form.fieldAt(pointer); return !f || f.shown(); });
    form.fields().forEach((f) => f.ownProblems && local.push(...f.ownProblems()));
    Object.entries(form.serverErrors).forEach(([pointer, messages]) => messages.forEach(
      (message) => local.push({pointer, message: formcheck.serverText(message), server: true})));
    const seen = new Set();
    return local.filter((p) => {
      const key = `${p.pointer}\u0000${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };
  /** Errors beside the touched fields (all after a submit), and the summary once a submit was tried. */
  form.showProblems = () => {
    const problems = form.problems();
    const per = new Map();
    problems.forEach((p) => {
      const f = form.fieldAt(p.pointer);
      p.field = f;
      if (f && f.files && p.message === formcheck.say(formcheck.messages.required)) p.message = formcheck.say(formcheck.messages.upload);
      if (f) per.set(f, [...(per.get(f) || []), p.message]);
    });
    /* in the order of the page, as people read it */
    const place = (p) => (p.field ? p.field.wrapper : null);
    problems.sort((a, b) => {
      const [x, y] = [place(a), place(b)];
      if (!x || !y || x === y) return (x ? 1 : 0) - (y ? 1 : 0) || 0;
      return x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });
    form.fields().forEach((f) => f.showErrors && f !== form
      && f.showErrors((form.submitted || f.touched) && f.shown() ? per.get(f) || [] : []));
    if (form.submitted) summarise(problems);
    return problems;
  };
  const touch = (event) => {
    const wrapper = event.target.closest("[data-pointer]");
    const f = wrapper && form.fieldAt(wrapper.dataset.pointer);
    if (f) f.touched = true;
  };
  /* on the way to Submit (pointer down on it) leave the layout alone: a message appearing or going would move
     the button from under the pointer before the mouse is released, and the click would be lost */
  form.holdLayout = false;
  const update = () => { if (!form.holdLayout) form.showProblems(); };
  container.addEventListener("focusout", (event) => { touch(event); update(); });
  container.addEventListener("change", (event) => { touch(event); form.refresh(); update(); });
  container.addEventListener("input", (event) => {
    const wrapper = event.target.closest("[data-pointer]");
    if (wrapper) {  /* a server's complaint about a field goes once the field is edited */
      Object.keys(form.serverErrors).filter((p) => p === wrapper.dataset.pointer || p.startsWith(`${wrapper.dataset.pointer}/`))
        .forEach((p) => delete form.serverErrors[p]);
    }
    form.refresh();
    if (form.submitted) form.showProblems();
  });
  return form;
}

/** The list at the top of the form: every problem, each a link that moves focus to its field. */
function summarise(problems) {
  const box = document.getElementById("form-summary");
  const list = document.getElementById("form-errors");
  box.hidden = !problems.length;
  document.getElementById("form-summary-title").textContent = formcheck.say(formText.summary, problems.length);
  list.replaceChildren(...problems.map((p) => {
    const label = p.field ? p.field.title : "";
    const text = label ? `${label}${formcheck.english ? ": " : "："}${p.message}` : p.message;
    if (!p.field) return element("li", {textContent: text});
    const link = element("a", {href: `#${p.field.id}`, textContent: text});
    link.addEventListener("click", (event) => {
      event.preventDefault();
      p.field.wrapper.scrollIntoView({block: "center"});
      p.field.focus();
    });
    return element("li", {}, link);
  }));
}

/** Wire the page's #form / #submit / #form-summary; `send(data)` performs the request. */
function mountForm(send, onDone, instanceId, taskId) {
  const container = document.getElementById("form");
  const schema = tongban.embedded("form-schema") || {type: "object"};
  attachments.context = {instanceId, taskId};  /* where file fields upload to and look their files up */
  const form = renderForm(container, schema, tongban.embedded("form-ui"), tongban.embedded("form-data"));
  const draft = drafts.attach(container, form);
  const button = document.getElementById("submit");
  const box = document.getElementById("form-summary");
  button.addEventListener("pointerdown", () => { form.holdLayout = true; });
  button.addEventListener("click", async () => {
    form.holdLayout = false;
    form.submitted = true;
    form.serverErrors = {};
    if (form.showProblems().length) { box.focus(); return; }  /* an upload still going counts */
    button.disabled = true;
    try {
      const response = await send(form.value());
      if (response.status >= 200 && response.status < 300) {
        draft.clear();
        onDone(response.body);
        return;
      }
      const body = response.body || {};
      form.serverErrors = body.fields && Object.keys(body.fields).length ? body.fields
        : {"": [body.message || `${formcheck.say(formText.failed)} (HTTP ${response.status})`]};
      form.showProblems();
      box.focus();
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
