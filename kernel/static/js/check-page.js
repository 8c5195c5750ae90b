/**
 * "Check my ballot": the receipt is checked in the page with veche-crypto.js (the
 * checkpoint's signature, the inclusion proof, consistency with the latest checkpoint,
 * and inclusion in the latest tree). Without JavaScript the form posts to the server,
 * which checks the same things itself.
 */
import { VecheVoter, VecheError } from "./veche-crypto.js";

const form = document.getElementById("check-form");
const text = document.getElementById("receipt");
const result = document.getElementById("check-result");
const messages = new Map(
  [...document.querySelectorAll("#messages [data-code]")].map((li) => [li.dataset.code, li.textContent]),
);
const voter = new VecheVoter({ allowTestKeys: form.dataset.allowTestKeys === "true" });

function show(kind, message, link) {
  result.replaceChildren();
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = message;
  result.append(p);
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    const q = document.createElement("p");
    q.append(a);
    result.append(q);
  }
}

function receiptsOf(value) {
  if (value && Array.isArray(value.receipts)) return value.receipts;
  return [value];
}

async function check(event) {
  event.preventDefault();
  show("muted", messages.get("checking"));
  let receipts;
  try {
    receipts = receiptsOf(JSON.parse(text.value));
    if (!receipts.length || typeof receipts[0]?.seq !== "number") throw new Error("no receipt");
  } catch {
    show("error", messages.get("malformed"));
    return;
  }
  const receipt = receipts[receipts.length - 1];
  try {
    const latest = await voter.recheckReceipt(receipt);
    show("ok", `${messages.get("ok")} ${messages.get("entry")} #${receipt.seq}; ${latest.size} ${messages.get("size")}.`, {
      href: `/log/entries/${receipt.seq}`,
      text: `${messages.get("entry")} #${receipt.seq}`,
    });
  } catch (exc) {
    const code = exc instanceof VecheError ? exc.code : "error";
    const lead = messages.get(code) ?? messages.get("error");
    show("error", `${lead} ${exc.detail ?? exc.message}`);
  }
}

document.getElementById("receipt-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) text.value = await file.text();
});
form.addEventListener("submit", check);
