/**
 * The ballot builder's live preview: after each change the form is sent with
 * "fragment=1", and the preview and the messages next to the fields are replaced by what
 * the server answers. Without JavaScript, "Check and preview" does the same with a reload.
 */
const form = document.getElementById("builder-form");
// Not form.action: the buttons named "action" shadow that property.
const target = form.getAttribute("action");
const live = document.getElementById("live");
let timer = null;
let sent = 0;

function showKind() {
  const kind = form.querySelector("input[name=kind]:checked")?.value;
  const rule = form.querySelector("#rule")?.value;
  for (const row of form.querySelectorAll("[data-kind]")) row.hidden = row.dataset.kind !== kind;
  for (const row of form.querySelectorAll("[data-rule]")) row.hidden = row.dataset.rule !== rule;
}

async function refresh() {
  const body = new URLSearchParams(new FormData(form));
  body.set("action", "preview");
  body.set("fragment", "1");
  body.delete("advanced");
  const mine = ++sent;
  const response = await fetch(target, { method: "POST", body, headers: { accept: "text/html" } });
  if (mine !== sent || !response.ok) return;
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  // Read the messages before the preview (which holds them) moves into this page.
  const found = new Map(
    [...doc.querySelectorAll("#field-problems li")].map((li) => [li.dataset.field, li.textContent.trim()]),
  );
  const preview = doc.getElementById("preview");
  if (preview) live.replaceChildren(preview);
  for (const slot of form.querySelectorAll(".field-error[data-field]")) {
    slot.textContent = found.get(slot.dataset.field) ?? "";
  }
}

form.addEventListener("input", (event) => {
  if (event.target.name === "advanced") return;
  showKind();
  clearTimeout(timer);
  timer = setTimeout(refresh, 300);
});
form.addEventListener("change", (event) => {
  // Another district has other proposals: the whole form is shown again.
  if (event.target.matches("[data-reload]")) {
    const action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "preview";
    form.append(action);
    form.submit();
  }
});
showKind();
