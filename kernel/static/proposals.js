// Proposal maps: markers of the listed proposals, and choosing a point on the submit
// form. The page works without this script (coordinates can be typed); without tiles
// (no network) the map is blank but still takes clicks.
(function () {
  "use strict";

  function parse(value) {
    const number = Number(value);
    return value !== "" && Number.isFinite(number) ? number : null;
  }

  function setUp() {
    const element = document.getElementById("map");
    if (!element || typeof L === "undefined") return;
    const points = JSON.parse(element.dataset.points || "[]");
    const map = L.map(element, { scrollWheelZoom: false });
    const tiles = element.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    }
    const latField = document.getElementById("latitude");
    const lonField = document.getElementById("longitude");
    let marker = null;
    const bounds = [];
    for (const point of points) {
      const spot = [Number(point.lat), Number(point.lon)];
      bounds.push(spot);
      const link = document.createElement("a");
      link.href = "/proposals/" + point.id;
      link.textContent = point.title;
      L.marker(spot).addTo(map).bindPopup(link);
    }
    if (latField && lonField) {
      const lat = parse(latField.value);
      const lon = parse(lonField.value);
      if (lat !== null && lon !== null) {
        marker = L.marker([lat, lon]).addTo(map);
        bounds.push([lat, lon]);
      }
      map.on("click", function (event) {
        const lat6 = event.latlng.lat.toFixed(6);
        const lon6 = L.Util.wrapNum(event.latlng.lng, [-180, 180], true).toFixed(6);
        latField.value = lat6;
        lonField.value = lon6;
        if (marker) marker.setLatLng([lat6, lon6]);
        else marker = L.marker([lat6, lon6]).addTo(map);
        element.dataset.chosen = lat6 + "," + lon6;
      });
    }
    if (bounds.length === 1) map.setView(bounds[0], 15);
    else if (bounds.length > 1) map.fitBounds(bounds, { padding: [20, 20] });
    else map.setView([55.751244, 37.618423], 11);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
