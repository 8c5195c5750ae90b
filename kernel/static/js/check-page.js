/**
 * "Check my ballot": each receipt (one pasted receipt, or every receipt of a credential
 * file) is checked in the page with veche-crypto.js (docs/protocol.md §8.2, §8.3): the
 * log's entry at the receipt's position is exactly the ballot and signature that were
 * sent, the checkpoint is signed by the log's key (the one the credential file pinned, if
 * any), the inclusion proof holds, the log only grew since, and the entry is in its
 * latest tree. Without JavaScript the form posts to the server, which checks the same
 * things itself. Nothing pasted here leaves the page.
 */
import { VecheVoter, VecheError } from "./veche-crypto.js";
import { pageMessages, technicalDetails } from "./page-text.js";

const form = document.getElementById("check-form");
const text = document.getElementById("receipt");
const result = document.getElementById("check-result");
const messages = pageMessages();
const allowTestKeys = form.dataset.allowTestKeys === "true";

function line(kind, message, link, detail) {
  const item = document.createElement("li");
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = message;
  item.append(p);
  if (detail) item.append(technicalDetails(messages.get("technical"), detail));
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    const q = document.createElement("p");
    q.append(a);
    item.append(q);
  }
  return item;
}

function show(kind, message) {
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = message;
  result.replaceChildren(p);
}

function parse(value) {
  const wallet = value && Array.isArray(value.receipts) ? value : null;
  const receipts = wallet ? value.receipts : [value];
  if (!receipts.length || !receipts.every((r) => r && typeof r.seq === "number"))
    throw new Error("no receipt");
  const logKey = wallet && typeof wallet.log_key === "string" ? wallet.log_key : undefined;
  return { receipts, logKey };
}

async function check(event) {
  event.preventDefault();
  show("muted", messages.get("checking"));
  let parsed;
  try {
    parsed = parse(JSON.parse(text.value));
  } catch {
    show("error", messages.get("malformed"));
    return;
  }
  const voter = new VecheVoter({ allowTestKeys, verifierKey: parsed.logKey });
  const list = document.createElement("ul");
  list.className = "results";
  for (const receipt of parsed.receipts) {
    const entry = `${messages.get("entry")} #${receipt.seq}`;
    try {
      const latest = await voter.recheckReceipt(receipt);
      list.append(
        line("ok", `${entry}: ${messages.get("ok")} ${latest.size} ${messages.get("size")}.`, {
          href: `/log/entries/${receipt.seq}`,
          text: entry,
        }),
      );
    } catch (exc) {
      const code = exc instanceof VecheError ? exc.code : "error";
      const lead = messages.get(code) ?? messages.get("error");
      // A message that ends in a colon is followed by what exactly did not match: the
      // sentence is shown whole, and the detail under it, folded.
      const said = lead.endsWith(":") ? `${lead.slice(0, -1)}.` : lead;
      const detail = lead.endsWith(":") ? String(exc.detail ?? exc.message ?? "") : "";
      list.append(line("error", `${entry}: ${said}`, null, detail));
    }
  }
  result.replaceChildren(list);
}

document.getElementById("receipt-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) text.value = await file.text();
});
form.addEventListener("submit", check);
