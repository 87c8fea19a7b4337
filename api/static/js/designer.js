/* The bpmn-js modeler with tongban's properties panel: save to the designer's workspace with validation marked on
   the elements, deploy, scenarios with coverage, the selected task's form. */
"use strict";

const config = tongban.embedded("designer-config");
const texts = config.texts;
const fileUrl = `/api/v1/designer/files?path=${encodeURIComponent(config.path)}`;
const modeler = new BpmnJS({
  container: "#modeler", keyboard: {bindTo: document},
  propertiesPanel: {parent: "#properties", layout: {groups: Object.fromEntries(
    ["task", "outcome", "condition", "timer", "decision", "service"].map((g) => [`tongban-${g}`, {open: true}]))}},
  additionalModules: [TongbanPanel.BpmnPropertiesPanelModule, TongbanPanel.BpmnPropertiesProviderModule,
                      tongbanPanel.module(config, config.labels)],
  moddleExtensions: {spiffworkflow: tongbanPanel.moddle},
});
const status = document.getElementById("status");
const showProblems = (problems) => tongbanProblems.show(problems, config, modeler);

function say(text, bad) {
  status.textContent = text;
  status.className = bad ? "alert" : "muted";
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
  tongbanProblems.saved(showProblems(response.body.problems), config, say);
});

document.getElementById("deploy").addEventListener("click", async () => {
  const response = await tongban.api("POST", "/api/v1/designer/deploy");
  if (response.status !== 200) return say(response.body.message, true);
  const created = response.body.filter((d) => d.created).map((d) => `${d.key} v${d.version}`);
  say(created.length ? `${texts.deployed}: ${created.join(", ")}` : texts.unchanged, false);
});

/* Run the folder's scenarios: results beside the diagram, covered and missed flows and nodes on it. */
let coverageMarks = [];
document.getElementById("scenarios").addEventListener("click", async () => {
  const folder = config.path.slice(0, config.path.lastIndexOf("/") + 1);
  say(texts.running, false);
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
    return `${c.process}: ${texts.flows} ${(c.flow_ratio * 100).toFixed(0)}%, ${texts.nodes} ${(c.node_ratio * 100).toFixed(0)}%`;
  });
  document.getElementById("coverage").textContent = summary.join("; ") || texts.no_scenarios;
  document.getElementById("scenario-results").replaceChildren(...response.body.results.map((r) => {
    const item = document.createElement("li");
    item.className = r.passed ? "passed" : "error";
    item.textContent = `${r.passed ? "✓" : "✗"} ${r.name}${r.passed ? "" : ` — ${r.message}`}`;
    return item;
  }));
  const failed = response.body.results.filter((r) => !r.passed).length;
  say(failed ? `${failed} ${texts.failed}` : texts.all_passed, failed > 0);
});

/* The form of the selected task, beside the diagram.  The listener returns nothing: a returned value (an async
   function's promise) would stop the event before the properties panel hears it. */
modeler.get("eventBus").on("selection.changed", ({newSelection}) => { showForm(newSelection); });

async function showForm(newSelection) {
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
}

load();
