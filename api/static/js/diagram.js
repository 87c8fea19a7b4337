/* The case's own BPMN version, with completed and active steps marked. */
"use strict";

(async function showDiagram() {
  const container = document.getElementById("diagram");
  if (!container) return;
  const state = tongban.embedded("diagram-state") || {};
  const viewer = await tongban.viewer(container);
  if (!viewer) return;
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  (state.completed || []).forEach((id) => registry.get(id) && canvas.addMarker(id, "done"));
  (state.active || []).forEach((id) => registry.get(id) && canvas.addMarker(id, "active"));
  (state.returned_from || []).forEach((id) => registry.get(id) && canvas.addMarker(id, "returned"));  /* 退回 */
  canvas.zoom("fit-viewport");
  /* at phone width the whole process cannot be read: folded away, fitted again when unfolded */
  const box = document.getElementById("diagram-box");
  if (box) {
    box.addEventListener("toggle", () => { if (box.open) { canvas.resized(); canvas.zoom("fit-viewport"); } });
    if (window.matchMedia("(max-width: 760px)").matches) box.open = false;
  }
  container.dataset.ready = "true";  /* markers are in place (tests and screen readers wait for this) */
})();
