/**
 * The ballot page: keeps the voter's wallet (recovery code, credential, token, receipts)
 * in IndexedDB, obtains the credential, guards the ballot's limits as the voter fills it
 * (a budget meter for knapsack ballots, points left for cumulative ones), and casts
 * through veche-crypto.js, which checks that the log's entry named by the receipt is the
 * ballot sent, in a checkpoint signed by the log's key (docs/protocol.md §8.2).
 *
 * The credential is derived from a recovery code (§6.13). Getting a credential shows the
 * code, and the ballot is enabled only once the voter has confirmed saving it (by typing
 * its last group); on a new device "Recover your credential" takes the code and gets the
 * same credential back. The ballot is cast without cookies, a random moment after the
 * credential was obtained (§12).
 *
 * Everything the script needs comes from the page's data-* attributes; the messages it
 * shows are the page's own (translated) list items in #messages.
 *
 * Each ballot is numbered per credential (docs/protocol.md §7.3): the wallet keeps the
 * number of the last one cast (`counter`), saved in IndexedDB with the rest after every
 * cast, so that a re-vote carries the next number. A wallet that lost it (a file saved
 * before a re-vote, another device) still votes: veche-crypto.js asks the server for the
 * next number when the server refuses one (§7.11).
 */
import {
  VecheVoter,
  VecheError,
  exportWallet,
  importWallet,
  formatRecoveryCode,
  newRecoveryCode,
  walletFromRecoveryCode,
} from "./veche-crypto.js";
import { pageMessages, technicalDetails } from "./page-text.js";
import { SurveyIncomplete, showSurveyRefusal, startSurvey, surveyChoices } from "./survey-ballot.js";

const form = document.getElementById("ballot-form");
const data = form.dataset;
const kind = data.kind;
const messages = pageMessages();
const $ = (id) => document.getElementById(id);
const say = (code, fallback = "") => messages.get(code) ?? fallback;

const voter = new VecheVoter({
  csrfToken: data.csrf,
  allowTestKeys: data.allowTestKeys === "true",
});
let info = null;
let wallet = null;
// Whether the voter confirmed saving the wallet's recovery code (kept with the wallet).
let confirmed = false;
// When the credential was obtained on this page: a ballot cast right after it would let
// the server pair the two by time (docs/protocol.md §12), so casting waits a
// random moment first.
let obtainedAt = 0;
const castDelayMs = Number(data.castDelayMs || 0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitBeforeCasting() {
  if (!obtainedAt || !castDelayMs) return;
  const random = new Uint32Array(1);
  crypto.getRandomValues(random);
  const wanted = castDelayMs / 2 + (random[0] % (castDelayMs / 2 + 1));
  const waited = Date.now() - obtainedAt;
  if (waited < wanted) {
    $("receipt-status").textContent = say("waiting");
    await sleep(wanted - waited);
  }
}

// --- the wallet in IndexedDB -----------------------------------------------------------

function openStore() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("veche", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("wallets");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function storeOp(mode, op) {
  const db = await openStore();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction("wallets", mode);
      const request = op(tx.objectStore("wallets"));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const walletKey = () => `${info.id}:${info.hash}`;
const loadWallet = () => storeOp("readonly", (s) => s.get(walletKey()));
const saveWallet = () =>
  storeOp("readwrite", (s) =>
    s.put({ ...exportWallet(wallet), recovery_saved: confirmed }, walletKey()),
  );

// The receipts are checked against the log key the wallet saw first (pinned).
function useWallet(next, saved) {
  wallet = next;
  confirmed = saved || !wallet.recoveryCode;
  voter.pinnedKey = wallet.logKey ?? null;
}

// --- showing state ---------------------------------------------------------------------

function showError(exc) {
  const box = $("ballot-error");
  if (!exc) {
    box.textContent = "";
    return;
  }
  // A survey's answers are marked at their questions; the message under the ballot says
  // where to look. A refusal naming a question is shown there too.
  if (exc instanceof SurveyIncomplete) {
    box.textContent = document.querySelector('#survey-messages [data-code="fix_answers"]').textContent;
    return;
  }
  if (kind === "survey") showSurveyRefusal(exc);
  const code = exc instanceof VecheError ? exc.code : "error";
  const known = messages.get(code);
  if (known) {
    box.textContent = known;
    return;
  }
  // A refusal this page has no words for: what to do in the reader's language, and the
  // server's or the browser's own wording (English) folded under it.
  const lead = document.createElement("p");
  lead.textContent = say("error");
  box.replaceChildren(lead, technicalDetails(say("technical"), exc.detail ?? exc.message));
}

function showWallet() {
  const status = $("wallet-status");
  const actions = $("credential-actions");
  const ready = Boolean(wallet?.token);
  const recovery = $("recovery");
  if (!ready) {
    status.textContent = say("no_wallet");
    actions.hidden = false;
    $("wallet-save").hidden = true;
    recovery.hidden = true;
  } else if (!confirmed) {
    status.textContent = say("unconfirmed");
    actions.hidden = true;
    $("wallet-save").hidden = false;
    // The groups, with a line break allowed only between them.
    const shown = $("recovery-code");
    shown.replaceChildren();
    wallet.recoveryCode.split("-").forEach((group, i, all) => {
      shown.append(i < all.length - 1 ? `${group}-` : group);
      if (i < all.length - 1) shown.append(document.createElement("wbr"));
    });
    recovery.hidden = false;
  } else {
    const voted = data.revoting === "false" ? "voted_once" : "voted";
    status.textContent = wallet.receipts.length ? say(voted) : say("have_wallet");
    actions.hidden = true;
    $("wallet-save").hidden = false;
    recovery.hidden = true;
  }
  // The ballot is enabled once the credential is here and its recovery code saved.
  $("cast").disabled = !(ready && confirmed);
  $("cast-hint").hidden = !(ready && !confirmed);
}

// The receipt shown: only receipts that passed the checks of docs/protocol.md §8.2 get
// here (a cast or a wallet keeps no other), so the card says it was verified.
let shownReceipt = null;
const receiptSay = (code) =>
  document.querySelector(`#messages-receipt [data-code="${code}"]`)?.textContent ?? "";

function showReceipt(receipt) {
  shownReceipt = receipt;
  $("receipt").hidden = false;
  $("receipt-status").textContent = `${say("cast_ok")} ${say("entry")} #${receipt.seq}.`;
  $("receipt-text").value = JSON.stringify(receipt, null, 2);
  document.querySelector("#receipt-pdf-form input[name=receipt]").value = JSON.stringify(receipt);
  $("receipt-entry").href = `/log/entries/${receipt.seq}`;
  $("receipt-seq").textContent = String(receipt.seq);
  const size = new Intl.NumberFormat(document.documentElement.lang).format(receipt.size);
  $("receipt-checkpoint").textContent = receiptSay("checkpoint_of").replace("#", size);
  $("receipt-digest").textContent = receipt.ballot_digest ?? "";
}

function downloadReceipt() {
  if (!shownReceipt) return;
  const blob = new Blob([JSON.stringify(shownReceipt, null, 2)], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `veche-receipt-${info.id}-${shownReceipt.seq}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// --- the ballot's limits as the voter fills it ------------------------------------------

// As the server writes money (kernel/i18n.py money, through Babel): the currency's sign,
// grouped the page language's way, minor units only when there are any. The amount goes
// to Intl as a decimal string, so no float ever carries it.
const moneyFormats = new Map();
const money = (minor) => {
  const unit = BigInt(data.unit || 1);
  const value = BigInt(minor);
  const sign = value < 0n ? "-" : "";
  const magnitude = value < 0n ? -value : value;
  const part = magnitude % unit;
  const digits = unit.toString().length - 1;
  const text = `${sign}${magnitude / unit}${part ? `.${part.toString().padStart(digits, "0")}` : ""}`;
  const fraction = part ? digits : 0;
  if (!moneyFormats.has(fraction)) {
    moneyFormats.set(
      fraction,
      new Intl.NumberFormat(document.documentElement.lang || "en", {
        style: "currency",
        currency: data.currency || "RUB",
        currencyDisplay: "narrowSymbol",
        minimumFractionDigits: fraction,
        maximumFractionDigits: fraction,
      }),
    );
  }
  return moneyFormats.get(fraction).format(text);
};

function approvalBoxes() {
  return [...form.querySelectorAll('input[name="approve"]')];
}

function updateApproval() {
  const boxes = approvalBoxes();
  const chosen = boxes.filter((b) => b.checked);
  const spent = chosen.reduce((sum, b) => sum + Number(b.dataset.cost), 0);
  const limit = data.limit === undefined ? null : Number(data.limit);
  const full = chosen.length >= Number(data.maxProjects);
  for (const box of boxes) {
    if (box.checked) {
      box.disabled = false;
      continue;
    }
    const over = limit !== null && spent + Number(box.dataset.cost) > limit;
    box.disabled = over || full;
    box.closest("li").classList.toggle("unaffordable", over);
    box.title = over ? say("over_budget") : full ? say("too_many_projects") : "";
  }
  if (limit !== null) {
    $("budget-meter").value = spent;
    $("budget-left").textContent =
      `${say("spent")}: ${money(spent)} · ${money(limit - spent)} ${say("left")}`;
  }
}

function onApprovalChange(event) {
  const box = event.target;
  const limit = data.limit === undefined ? null : Number(data.limit);
  const chosen = approvalBoxes().filter((b) => b.checked);
  const spent = chosen.reduce((sum, b) => sum + Number(b.dataset.cost), 0);
  // The meter stops the voter at the budget even if a disabled box was forced on.
  if (box.checked && limit !== null && spent > limit) {
    box.checked = false;
    showError(new VecheError("over_budget", ""));
  } else if (box.checked && chosen.length > Number(data.maxProjects)) {
    box.checked = false;
    showError(new VecheError("too_many_projects", ""));
  } else {
    showError(null);
  }
  updateApproval();
}

function pointInputs() {
  return [...form.querySelectorAll('input[name="points"]')];
}

function updatePoints(event) {
  const total = Number(data.totalPoints);
  const most = Number(data.maxPerProject);
  const inputs = pointInputs();
  if (event) {
    const input = event.target;
    let value = Math.max(0, Math.min(most, Math.floor(Number(input.value) || 0)));
    const others = inputs
      .filter((i) => i !== input)
      .reduce((sum, i) => sum + (Math.floor(Number(i.value)) || 0), 0);
    if (others + value > total) {
      value = Math.max(0, total - others);
      showError(new VecheError("too_many_points", ""));
    } else {
      showError(null);
    }
    if (String(value) !== input.value) input.value = String(value);
  }
  const used = inputs.reduce((sum, i) => sum + (Math.floor(Number(i.value)) || 0), 0);
  $("points-left").textContent = `${say("points_left")} ${total - used}`;
}

function choices() {
  if (kind === "survey") return surveyChoices(form);
  if (kind === "approval") return { approve: approvalBoxes().filter((b) => b.checked).map((b) => b.value) };
  if (kind === "cumulative") {
    const points = {};
    for (const input of pointInputs()) {
      const n = Math.floor(Number(input.value)) || 0;
      if (n > 0) points[input.dataset.project] = n;
    }
    return { points };
  }
  if (kind === "ordinal") {
    const rank = [...form.querySelectorAll('select[name="rank"]')].map((s) => s.value).filter(Boolean);
    return { rank };
  }
  return { choose: [...form.querySelectorAll('input[name="choose"]:checked')].map((b) => b.value) };
}

// --- actions ---------------------------------------------------------------------------

// A new credential from a new recovery code (or the code of a wallet whose answer was
// lost). The wallet is stored before asking, so that asking again sends the same request.
async function obtain(options) {
  showError(null);
  $("wallet-status").textContent = say("obtaining");
  try {
    if (!wallet || wallet.token) {
      useWallet(await walletFromRecoveryCode(info.id, info.hash, newRecoveryCode()), false);
      await saveWallet();
    }
    await voter.certify(info, wallet, options);
    obtainedAt = Date.now();
    await saveWallet();
    showWallet();
    $("recovery-title").focus();
    return;
  } catch (exc) {
    showError(exc);
  }
  showWallet();
}

// "Lost your device?": the same credential from the code typed, with the log-in or the
// access code. A code that is not the voter's is refused by the server (a different
// request from the same voter) and makes no second credential.
async function recover() {
  showError(null);
  let code;
  try {
    code = formatRecoveryCode($("recover-code").value);
  } catch (exc) {
    showError(exc);
    return;
  }
  const access = $("access-code").value.trim();
  $("wallet-status").textContent = say("recovering");
  try {
    const recovered = await walletFromRecoveryCode(info.id, info.hash, code);
    await voter.certify(info, recovered, access ? { accessCode: access } : {});
    useWallet(recovered, true);
    obtainedAt = Date.now();
    await saveWallet();
    showWallet();
    $("wallet-status").textContent = say("recovered");
    return;
  } catch (exc) {
    showError(exc?.code === "already_issued" ? new VecheError("wrong_recovery_code", "") : exc);
  }
  showWallet();
}

async function confirmCode() {
  const typed = $("recovery-confirm").value.trim().toUpperCase();
  const last = wallet.recoveryCode.split("-").pop();
  if (typed !== last) {
    $("recovery-confirm-error").textContent = say("confirm_mismatch");
    $("recovery-confirm").focus();
    return;
  }
  $("recovery-confirm-error").textContent = "";
  confirmed = true;
  await saveWallet();
  showWallet();
  $("ballot-title").scrollIntoView({ block: "start" });
}

function saveCode() {
  const text = `${document.title}\n${location.href}\n\n${wallet.recoveryCode}\n`;
  const blob = new Blob([text], { type: "text/plain" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `veche-recovery-code-${info.id}.txt`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function cast(event) {
  event.preventDefault();
  showError(null);
  const button = $("cast");
  button.disabled = true;
  try {
    if (!wallet?.token || !confirmed) throw new VecheError("need_confirmation", "");
    const chosen = choices(); // read (and, for a survey, checked) before the wait
    await waitBeforeCasting();
    $("receipt-status").textContent = say("casting");
    const receipt = await voter.cast(info, wallet, chosen);
    await saveWallet(); // with the ballot's number: the next ballot carries the one after
    showReceipt(receipt);
    $("receipt-title").focus();
  } catch (exc) {
    showError(exc);
  } finally {
    showWallet();
  }
}

function download() {
  const blob = new Blob([JSON.stringify(exportWallet(wallet), null, 2)], {
    type: "application/json",
  });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `veche-wallet-${info.id}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  showError(null);
  try {
    const loaded = importWallet(await file.text());
    if (loaded.electionHash !== info.hash) throw new VecheError("bad_wallet", "another election");
    // A file saved before a re-vote knows fewer ballots than this browser: keep the count
    // of the two that is further along, so that the next ballot is not refused.
    if (wallet && wallet.credentialPrivate === loaded.credentialPrivate) {
      loaded.counter = Math.max(loaded.counter, wallet.counter);
    }
    useWallet(loaded, true); // whoever has the file has what the code would give back
    await saveWallet();
    const last = wallet.receipts[wallet.receipts.length - 1];
    if (last) showReceipt(last);
  } catch (exc) {
    showError(exc instanceof VecheError ? exc : new VecheError("bad_wallet", String(exc)));
  }
  event.target.value = "";
  showWallet();
}

async function start() {
  try {
    info = await voter.election(data.election);
    const stored = await loadWallet();
    if (stored) useWallet(importWallet(stored), stored.recovery_saved === true);
  } catch (exc) {
    showError(exc);
    $("wallet-status").textContent = "";
    return;
  }
  const last = wallet?.receipts[wallet.receipts.length - 1];
  if (last) showReceipt(last);
  showWallet();
}

if (kind === "approval") {
  for (const box of approvalBoxes()) box.addEventListener("change", onApprovalChange);
  updateApproval();
} else if (kind === "cumulative") {
  for (const input of pointInputs()) input.addEventListener("input", updatePoints);
  updatePoints();
} else if (kind === "survey") {
  startSurvey(form);
}
form.addEventListener("submit", cast);
$("get-credential")?.addEventListener("click", () => obtain({}));
$("use-code").addEventListener("click", () => {
  const code = $("access-code").value.trim();
  if (code) obtain({ accessCode: code });
});
$("use-recovery").addEventListener("click", recover);
$("confirm-code").addEventListener("click", confirmCode);
$("recovery-confirm").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    confirmCode();
  }
});
$("print-code").addEventListener("click", () => window.print());
$("save-code").addEventListener("click", saveCode);
$("save-wallet").addEventListener("click", download);
$("receipt-download").addEventListener("click", downloadReceipt);
$("receipt-print").addEventListener("click", () => {
  document.body.classList.add("printing-receipt");
  window.print();
  document.body.classList.remove("printing-receipt");
});
$("load-wallet").addEventListener("change", upload);
// A letter's QR code opens this page with "#code=…": the access code is filled in and
// taken out of the address, so that it stays in neither the history nor a bookmark.
const fromLetter = new URLSearchParams(location.hash.slice(1)).get("code");
if (fromLetter) {
  $("access-code").value = fromLetter;
  history.replaceState(null, "", location.pathname + location.search);
}
start();
