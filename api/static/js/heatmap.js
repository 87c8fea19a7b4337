/* The heat map: the version's diagram with each task shaded by its p90 time and labelled with its figures, and each
   flow labelled with the share of cases that took it (the page embeds the figures; the tables below hold them too). */
"use strict";

(async function showHeatMap() {
  const container = document.getElementById("heat-diagram");
  if (!container) return;
  if (!container.offsetWidth) {  /* hidden at phone width (the tables hold the figures): nothing to fit */
    container.dataset.ready = "true";
    return;
  }
  const state = tongban.embedded("heat-state") || {};
  const viewer = await tongban.viewer(container);
  if (!viewer) return;  /* a version drawn without a layout: the tables still hold every figure */
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  const labels = state.labels || {};
  const text = (cls, content) => {
    const div = document.createElement("div");
    div.className = cls;
    div.textContent = content;
    return div;
  };
  (state.elements || []).forEach((figure) => {
    const shape = registry.get(figure.id);
    if (!shape) return;
    canvas.addMarker(figure.id, `heat-${figure.step}`);
    const lines = [`${labels.median} ${figure.median}`, `${labels.p90} ${figure.p90}`];
    if (figure.breaches) lines.push(`${labels.breaches} ${figure.breaches}`);
    if (figure.open) lines.push(`${figure.timer ? labels.waiting : labels.open} ${figure.open}`);
    const label = text(`heat-label${figure.breaches ? " late" : ""}`, lines.join(" · "));
    label.dataset.element = figure.id;
    overlays.add(figure.id, "heat", {position: {top: -20, left: 0}, html: label, scale: {min: 1}});
  });
  (state.flows || []).filter((flow) => flow.taken).forEach((flow) => {  /* 0 %: in the table, not in the way */
    const connection = registry.get(flow.id);
    if (!connection || !connection.waypoints) return;
    /* beside the middle of the flow's middle segment, relative to the connection's box */
    const points = connection.waypoints;
    const i = Math.max(0, Math.floor((points.length - 1) / 2));
    const a = points[i], b = points[Math.min(i + 1, points.length - 1)];
    const box = {x: Math.min(...points.map((p) => p.x)), y: Math.min(...points.map((p) => p.y))};
    const label = text("heat-share", flow.share);
    label.dataset.flow = flow.id;
    overlays.add(flow.id, "heat", {position: {left: (a.x + b.x) / 2 - box.x + 4, top: (a.y + b.y) / 2 - box.y - 18},
                                   html: label, scale: {min: 1}});
  });
  canvas.zoom("fit-viewport");
  /* a large process fitted whole is too small to read: close in on the slowest step, the rest a drag away */
  const slowest = (state.elements || []).map((figure) => registry.get(figure.id)).find(Boolean);
  if (canvas.zoom() < 0.75 && slowest) {
    canvas.zoom(0.9);
    canvas.scrollToElement(slowest, {top: 160, bottom: 160, left: 320, right: 320});
  }
  container.dataset.ready = "true";
})();
