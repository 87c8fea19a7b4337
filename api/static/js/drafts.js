/* Drafts: what a person types is kept in this browser (localStorage) as they type and offered back when they
   return; leaving with unsent changes asks first. A draft is keyed by the user and the form
   (`data-draft-key="haiyun/start/zzs_prereg"` or `…/task/<id>`), so nobody else's draft is ever restored,
   and fields marked `x-personal` (ID numbers) are never written to the browser's storage. */
"use strict";

const draftText = {
  restored: ["已恢复 {0} 保存的草稿。", "Your draft from {0} was restored."],
  discard: ["放弃草稿", "Discard draft"],
};

const drafts = {
  PREFIX: "tongban:draft:",
  MAX_AGE_MS: 14 * 24 * 3600 * 1000,  /* an abandoned draft is not offered for ever */

  /** The form's values without personal fields (what is stored). */
  strip(schema, value) {
    if (!schema || !value || typeof value !== "object" || Array.isArray(value)) return value;
    const properties = allProperties(schema);
    return Object.fromEntries(Object.entries(value).filter(([k]) => !(properties[k] || {})["x-personal"])
      .map(([k, v]) => [k, this.strip(properties[k], v)]));
  },

  read(key) {
    try {
      const saved = JSON.parse(localStorage.getItem(key) || "null");
      if (saved && Date.now() - saved.at < this.MAX_AGE_MS && saved.data) return saved;
    } catch (_) { /* a damaged entry is no draft */ }
    localStorage.removeItem(key);
    return null;
  },

  /** Restore, save as the user types, warn on leaving; returns {clear()} for a successful submit. */
  attach(container, form) {
    const key = container.dataset.draftKey ? this.PREFIX + container.dataset.draftKey : null;
    let dirty = false;
    if (!key) return {clear() {}};
    const saved = this.read(key);
    if (saved) {
      form.set(saved.data);
      form.refresh();
      this.notice(container, saved.at, () => { localStorage.removeItem(key); dirty = false; window.location.reload(); });
    }
    let timer = null;
    const save = () => {
      timer = null;
      try {
        localStorage.setItem(key, JSON.stringify({at: Date.now(), data: this.strip(form.schema, form.everything())}));
      } catch (_) { /* storage full or refused: the form still works, only without a draft */ }
    };
    const edited = () => {
      dirty = true;
      if (!timer) timer = setTimeout(save, 300);
    };
    container.addEventListener("input", edited);
    container.addEventListener("change", edited);
    window.addEventListener("beforeunload", (event) => {
      if (timer) { clearTimeout(timer); save(); }
      if (!dirty) return;
      event.preventDefault();
      event.returnValue = "";  /* the browser shows its own "leave this page?" question */
    });
    return {clear() { dirty = false; if (timer) clearTimeout(timer); timer = null; localStorage.removeItem(key); }};
  },

  notice(container, at, onDiscard) {
    const when = new Date(at).toLocaleString(formcheck.english ? "en-GB" : "zh-CN", {dateStyle: "short", timeStyle: "short"});
    const discard = element("button", {type: "button", className: "link", textContent: formcheck.say(draftText.discard)});
    discard.addEventListener("click", onDiscard);
    const box = element("p", {className: "draft-notice", id: "draft-notice"},
                        `${formcheck.say(draftText.restored, when)} `, discard);
    box.setAttribute("role", "status");
    container.before(box);
  },
};
