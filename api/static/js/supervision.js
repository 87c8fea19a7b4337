/* Supervision dashboard: draws the two charts from the figures the page embeds (Chart.js, no inline script). */
"use strict";

(function () {
  const data = tongban.embedded("supervision-charts");
  if (!data || typeof Chart === "undefined") return;
  const brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#b3261e";
  // 非常满意 … 非常不满意: green to red
  const levelColours = ["#2e7d32", "#81c784", "#fbc02d", "#ef6c00", "#c62828"];
  Chart.defaults.animation = false;  // figures, not a show: drawn at once (and screenshots see the final bars)

  new Chart(document.getElementById("chart-units"), {
    type: "bar",
    data: {labels: data.units.labels, datasets: [{label: data.units.label, data: data.units.on_time_rate,
                                                  backgroundColor: brand}]},
    options: {indexAxis: "y", maintainAspectRatio: false, scales: {x: {min: 0, max: 100}},
              plugins: {legend: {display: false}}},
  });

  new Chart(document.getElementById("chart-buildings"), {
    type: "bar",
    data: {labels: data.buildings.labels,
           datasets: data.buildings.levels.map((level, i) => ({label: level.label, data: level.data,
                                                                backgroundColor: levelColours[i]}))},
    options: {maintainAspectRatio: false, scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true,
                                                                           ticks: {precision: 0}}}},
  });
})();
