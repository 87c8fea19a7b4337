/* The bpmn-js modeler: save back to processes/ with validation marked on the elements, deploy, forms. */
"use strict";

const config = tongban.embedded("designer-config");
const fileUrl = `/api/v1/designer/files?path=${encodeURIComponent(config.path)}`;
const modeler = new BpmnJS({container: "#modeler", keyboard: {bindTo: document}});
const status = document.getElementById("status");
let marked = [];

function say(text, bad) {
  status.textContent = text;
  status.className = bad ? "alert" : "muted";
}

/** Problems of this file: listed beside the diagram, and marked on the elements they name. */
function showProblems(problems) {
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  const overlays = modeler.get("overlays");
  marked.forEach((id) => registry.get(id) && canvas.removeMarker(id, "problem"));
  overlays.remove({type: "problem"});
  marked = [];
  const list = document.getElementById("problems");
  const mine = problems.filter((p) => p.file === config.path || !p.element_id);
  list.replaceChildren(...mine.map((p) => {
    const item = document.createElement("li");
    item.className = p.severity;
    item.textContent = `${p.element_id ? `[${p.element_id}] ` : ""}${p.line ? `(${p.line}) ` : ""}${p.message}`;
    if (p.element_id && registry.get(p.element_id)) {
      canvas.addMarker(p.element_id, "problem");
      marked.push(p.element_id);
      const badge = document.createElement("div");
      badge.className = `problem-badge ${p.severity}`;
      badge.textContent = "!";
      badge.title = p.message;
      overlays.add(p.element_id, "problem", {position: {top: -10, right: 10}, html: badge});
      item.addEventListener("click", () => modeler.get("selection").select(registry.get(p.element_id)));
    }
    return item;
  }));
  if (!mine.length) list.replaceChildren(Object.assign(document.createElement("li"), {textContent: "✓"}));
  return mine.filter((p) => p.severity === "error").length;
}

async function load() {
  const response = await fetch(fileUrl, {credentials: "same-origin"});
  await modeler.importXML(await response.text());
  modeler.get("canvas").zoom("fit-viewport");
  const problems = await tongban.api("GET", "/api/v1/designer/problems");
  showProblems(problems.body.problems);
  document.getElementById("modeler").dataset.ready = "true";  /* after the first validation: a later save wins */
}

document.getElementById("save").addEventListener("click", async () => {
  const {xml} = await modeler.saveXML({format: true});
  const response = await tongban.api("PUT", fileUrl, {content: xml});
  if (response.status !== 200) return say(response.body.message, true);
  const errors = showProblems(response.body.problems);
  say(errors ? `已保存，${errors} 处错误 (saved, ${errors} errors)` : "已保存，校验通过 (saved, valid)", errors > 0);
});

document.getElementById("deploy").addEventListener("click", async () => {
  const response = await tongban.api("POST", "/api/v1/designer/deploy");
  if (response.status !== 200) return say(response.body.message, true);
  const created = response.body.filter((d) => d.created).map((d) => `${d.key} v${d.version}`);
  say(created.length ? `已部署 (deployed): ${created.join(", ")}` : "没有变化 (nothing changed)", false);
});

/* Run the folder's scenarios: results beside the diagram, covered and missed flows and nodes on it. */
let coverageMarks = [];
document.getElementById("scenarios").addEventListener("click", async () => {
  const folder = config.path.slice(0, config.path.lastIndexOf("/") + 1);
  say("运行中… (running)", false);
  const response = await tongban.api("POST", `/api/v1/designer/scenarios?folder=${encodeURIComponent(folder)}`);
  if (response.status !== 200) return say(response.body.message, true);
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  coverageMarks.forEach(([id, mark]) => registry.get(id) && canvas.removeMarker(id, mark));
  coverageMarks = [];
  const mark = (ids, name) => ids.forEach((id) => {
    if (registry.get(id)) { canvas.addMarker(id, name); coverageMarks.push([id, name]); }
  });
  const summary = response.body.coverage.map((c) => {
    mark([...c.flows_taken, ...c.nodes_visited], "covered");
    mark([...c.flows_missed, ...c.nodes_missed], "uncovered");
    return `${c.process}: 连线 ${(c.flow_ratio * 100).toFixed(0)}%，节点 ${(c.node_ratio * 100).toFixed(0)}%`;
  });
  document.getElementById("coverage").textContent = summary.join("；") || "没有场景 (no scenarios)";
  document.getElementById("scenario-results").replaceChildren(...response.body.results.map((r) => {
    const item = document.createElement("li");
    item.className = r.passed ? "passed" : "error";
    item.textContent = `${r.passed ? "✓" : "✗"} ${r.name}${r.passed ? "" : ` — ${r.message}`}`;
    return item;
  }));
  const failed = response.body.results.filter((r) => !r.passed).length;
  say(failed ? `${failed} 个场景未通过 (scenarios failed)` : "场景全部通过 (all scenarios passed)", failed > 0);
});

/* The form of the selected task, beside the diagram. */
modeler.get("eventBus").on("selection.changed", async ({newSelection}) => {
  const id = newSelection.length === 1 ? newSelection[0].id : null;
  const form = id && config.forms[id];
  const box = document.getElementById("form-json");
  document.getElementById("form-path").textContent = form || "";
  document.getElementById("form-hint").hidden = Boolean(form);
  box.hidden = !form;
  if (form) {
    const response = await fetch(`/api/v1/designer/files?path=${encodeURIComponent(form)}`, {credentials: "same-origin"});
    box.value = await response.text();
  }
});

load();
