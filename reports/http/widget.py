"""The widget a municipal site includes with one script tag (docs/protocol.md §16.7):

    <script src="https://veche.example/reports/widget.js" data-category="potholes"
            data-lang="ru" async></script>

The script puts a "Report a problem" button where it stands; the button opens this
deployment's report form (in the category named, if any) in a new tab, where the
resident logs in and reports as on the site itself. Nothing is framed: every page of
Veche refuses to be framed (``frame-ancestors 'none'``), so no other site can dress the
form up or read what is typed into it.
"""

from __future__ import annotations

import json

from litestar import Controller, Response, get

from reports.http.state import ReportState

__all__ = ["ReportWidget"]

LABELS = {"ru": "Сообщить о проблеме", "en": "Report a problem"}

_SCRIPT = """(() => {
  const script = document.currentScript;
  if (!script) return;
  const base = %(base)s;
  const labels = %(labels)s;
  const lang = script.dataset.lang === "en" ? "en" : "ru";
  const link = document.createElement("a");
  const url = new URL("/reports/new", base);
  if (script.dataset.category) url.searchParams.set("category", script.dataset.category);
  link.href = url.href;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = labels[lang];
  link.className = "veche-report-widget";
  link.setAttribute("style", "display:inline-block;padding:.6em 1.1em;border-radius:.4em;" +
    "background:#1f5fbf;color:#fff;font:inherit;text-decoration:none");
  script.after(link);
})();
"""


class ReportWidget(Controller):
    include_in_schema = False

    @get("/reports/widget.js", cache=3600)
    async def widget(self, state: ReportState) -> Response[str]:
        """The embeddable button, pointing at this deployment's public address."""
        body = _SCRIPT % {
            "base": json.dumps(state.settings.public_url),
            "labels": json.dumps(LABELS, ensure_ascii=False),
        }
        return Response(body, media_type="text/javascript; charset=utf-8")
