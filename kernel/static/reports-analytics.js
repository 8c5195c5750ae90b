// Reports analytics: the map of where reports cluster. The server sends counts per
// 0.01° cell (never the reports themselves); each cell is drawn as a square whose
// opacity grows with its count. Without tiles (no network) the squares still show.
(function () {
  "use strict";
  const CELL = 0.01;

  function setUp() {
    const element = document.getElementById("cells-map");
    if (!element || typeof L === "undefined") return;
    const cells = JSON.parse(element.dataset.cells || "[]");
    const map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, {
        maxZoom: 19, attribution: element.dataset.attribution || ""
      }).addTo(map);
    }
    const top = cells.reduce(function (most, cell) { return Math.max(most, cell.n); }, 1);
    const bounds = [];
    for (const cell of cells) {
      const south = Number(cell.lat), west = Number(cell.lon);
      const box = [[south, west], [south + CELL, west + CELL]];
      bounds.push(box[0], box[1]);
      L.rectangle(box, {
        color: "#1d4ed8", weight: 0.5,
        fillColor: "#1d4ed8", fillOpacity: 0.15 + 0.7 * Math.sqrt(cell.n / top)
      }).addTo(map).bindTooltip(String(cell.n));
    }
    if (bounds.length) map.fitBounds(bounds, { padding: [10, 10] });
    else map.setView([55.751244, 37.618423], 11);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
