// Reports: the status of each report on the page kept live by asking the API every
// 15 seconds (no reload). Elements marked data-report-live="<id>" are updated.
(function () {
  "use strict";
  function names() {
    const element = document.getElementById("status-names");
    try { return element ? JSON.parse(element.textContent) : {}; } catch (e) { return {}; }
  }
  function refresh(labels) {
    document.querySelectorAll("[data-report-live]").forEach(function (element) {
      fetch("/api/v1/reports/" + element.dataset.reportLive, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (report) {
          if (!report) return;
          const text = labels[report.status] || report.status;
          if (element.textContent !== text) {
            element.textContent = text;
            element.className = "status status-" + report.status;
            element.dataset.status = report.status;
          }
        })
        .catch(function () {});
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector("[data-report-live]")) return;
    const labels = names();
    window.setInterval(function () { refresh(labels); }, 15000);
  });
})();
