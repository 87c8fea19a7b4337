/* Validation problems beside an editor: every problem of the workspace is listed (the count is what deploy will
   refuse), and marked on the elements it concerns — its own element in this file, or the elements that use the
   form, decision table or called process the problem is attributed to. */
"use strict";

const tongbanProblems = (function () {
  let marked = [];

  /** Element ids of this diagram that a problem concerns. */
  function targets(problem, config, registry) {
    if (!registry) return [];
    const own = problem.element_id && registry.get(problem.element_id) ? [problem.element_id] : [];
    if (problem.file === config.path) return own;
    const users = Object.entries(config.palette?.uses || {})
      .filter(([id, files]) => files.includes(problem.file) && registry.get(id)).map(([id]) => id);
    return [...new Set([...own, ...users])];
  }

  function item(problem, config, onSelect) {
    const li = document.createElement("li");
    li.className = problem.severity;
    const where = `${problem.element_id ? `[${problem.element_id}] ` : ""}${problem.line ? `(${problem.line}) ` : ""}`;
    if (problem.file !== config.path) {
      const file = document.createElement(/\.(bpmn|dmn)$/.test(problem.file) ? "a" : "code");
      file.textContent = problem.file;
      if (file.tagName === "A") file.href = `/designer/edit?path=${encodeURIComponent(problem.file)}`;
      li.append(`${config.texts.other_file} `, file, ": ");
    }
    li.append(where + problem.message);
    if (onSelect) li.addEventListener("click", onSelect);
    return li;
  }

  /** List and mark `problems`; `viewer` is a bpmn-js instance (or null for a decision table). Returns the errors. */
  function show(problems, config, viewer) {
    const canvas = viewer?.get("canvas");
    const registry = viewer?.get("elementRegistry");
    const overlays = viewer?.get("overlays");
    marked.forEach((id) => registry?.get(id) && canvas.removeMarker(id, "problem"));
    overlays?.remove({type: "problem"});
    marked = [];
    const ordered = [...problems].sort((a, b) => (b.file === config.path) - (a.file === config.path));
    const list = document.getElementById("problems");
    list.replaceChildren(...ordered.map((problem) => {
      const ids = targets(problem, config, registry);
      ids.forEach((id) => {
        canvas.addMarker(id, "problem");
        marked.push(id);
        const badge = document.createElement("div");
        badge.className = `problem-badge ${problem.severity}`;
        badge.textContent = "!";
        badge.title = problem.message;
        overlays.add(id, "problem", {position: {top: -10, right: 10}, html: badge});
      });
      return item(problem, config, ids.length ? () => viewer.get("selection").select(registry.get(ids[0])) : null);
    }));
    if (!problems.length) list.replaceChildren(Object.assign(document.createElement("li"), {textContent: "✓"}));
    return problems.filter((p) => p.severity === "error").length;
  }

  /** The status line after a save: valid, or how many errors the whole workspace has. */
  function saved(errors, config, say) {
    say(errors ? `${config.texts.saved_errors}: ${errors}` : config.texts.saved_valid, errors > 0);
  }

  return {show, saved};
})();
