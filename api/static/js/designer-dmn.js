/* The dmn-js table editor for one decision file: one button per decision, saved through the same path as diagrams
   (the server patches only the changed elements into the file, so its comments stay). */
"use strict";

(function () {
  const config = tongban.embedded("designer-config");
  const fileUrl = `/api/v1/designer/files?path=${encodeURIComponent(config.path)}`;
  const modeler = new DmnJS({container: "#dmn", keyboard: {bindTo: document}});
  const status = document.getElementById("status");
  const say = (text, bad) => { status.textContent = text; status.className = bad ? "alert" : "muted"; };

  /** A button per decision table (a file may hold several); the first decision table opens. */
  function tabs() {
    const views = modeler.getViews().filter((v) => v.type === "decisionTable" || v.type === "literalExpression");
    const active = modeler.getActiveView();
    document.getElementById("views").replaceChildren(...views.map((view) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = view.element.name || view.element.id;
      button.setAttribute("aria-pressed", String(active && active.element === view.element));
      button.addEventListener("click", async () => { await modeler.open(view); tabs(); });
      return button;
    }));
  }

  async function load() {
    const xml = await (await fetch(fileUrl, {credentials: "same-origin"})).text();
    await modeler.importXML(xml);
    const table = modeler.getViews().find((v) => v.type === "decisionTable");
    if (table) await modeler.open(table);
    tabs();
    const problems = await tongban.api("GET", "/api/v1/designer/problems");
    tongbanProblems.show(problems.body.problems, config, null);
    document.getElementById("dmn").dataset.ready = "true";
  }

  document.getElementById("save").addEventListener("click", async () => {
    const {xml} = await modeler.saveXML({format: true});
    const response = await tongban.api("PUT", fileUrl, {content: xml});
    if (response.status !== 200) return say(response.body.message, true);
    tongbanProblems.saved(tongbanProblems.show(response.body.problems, config, null), config, say);
  });

  load();
})();
