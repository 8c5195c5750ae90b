/**
 * The trustee page (docs/protocol.md §17.8): a trustee makes or opens their trustee file
 * (§17.7, the file of `veche trustee`), publishes their dealing, checks the others' and
 * acknowledges, and at the close releases their key share, with veche-trustee.js. The
 * file stays in this page and in what the trustee saves; only the messages of §17 are
 * sent.
 */
import {
  TrusteeClient,
  TrusteeError,
  identityText,
  loadIdentity,
  newIdentity,
  publicPart,
  tomlMember,
} from "./veche-trustee.js";
import { pageMessages, technicalDetails } from "./page-text.js";

const $ = (id) => document.getElementById(id);
const messages = pageMessages();
const client = new TrusteeClient({
  allowTestKeys: $("identity-panel").dataset.allowTestKeys === "true",
});
const result = $("trustee-result");
let identity = null;
let fileUrl = null;

function say(kind, text, detail) {
  result.replaceChildren();
  const p = document.createElement("p");
  p.className = kind;
  p.textContent = text;
  result.append(p);
  if (detail) result.append(technicalDetails(messages.get("technical"), detail));
}

function fail(exc) {
  if (exc instanceof TrusteeError && exc.trustee)
    say("error", `${messages.get("bad-dealing")} ${exc.trustee}.`, exc.detail);
  else {
    const known = messages.get(`code-${exc.code}`);
    say("error", known ?? messages.get("error"), exc.detail ?? exc.message);
  }
}

/** Offer the file for saving (and, when `now`, save it at once). */
function offerFile(now) {
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  fileUrl = URL.createObjectURL(new Blob([identityText(identity)], { type: "application/json" }));
  const link = $("save-file");
  link.href = fileUrl;
  link.download = `trustee-${identity.name.replace(/[^\p{L}\p{N}_-]+/gu, "-")}.json`;
  if (now) link.click();
}

function showIdentity(text) {
  $("identity-choose").hidden = true;
  $("identity-shown").hidden = false;
  $("identity-name").textContent = identity.name;
  $("public-part").textContent = tomlMember(publicPart(identity));
  $("election-panel").hidden = false;
  offerFile(false);
  say("ok", text);
}

async function busy(button, work) {
  document.querySelectorAll("button").forEach((b) => (b.disabled = true));
  say("notice", messages.get("working"));
  try {
    await work();
  } catch (exc) {
    fail(exc);
  } finally {
    document.querySelectorAll("button").forEach((b) => (b.disabled = false));
  }
}

$("make-identity").addEventListener("click", (event) =>
  busy(event.target, async () => {
    identity = await newIdentity($("trustee-name").value);
    showIdentity(messages.get("made"));
  }),
);

$("trustee-file").addEventListener("change", (event) =>
  busy(null, async () => {
    const file = event.target.files[0];
    if (!file) return;
    identity = loadIdentity(await file.text());
    showIdentity(messages.get("opened"));
  }),
);

const electionId = () => $("election-id").value.trim();

async function showCeremony() {
  const { shown, me } = await client.board(electionId(), identity);
  const dealt = new Set(shown.dealings.map((d) => d.dealing.dealer));
  const acked = new Set(shown.acks.map((a) => a.ack.trustee));
  const list = $("ceremony-members");
  list.replaceChildren(
    ...shown.members.map((m, i) => {
      const li = document.createElement("li");
      const marks = [];
      if (i + 1 === me) marks.push(messages.get("you"));
      if (dealt.has(i + 1)) marks.push(messages.get("dealt"));
      if (acked.has(i + 1)) marks.push(messages.get("acked"));
      li.textContent = marks.length ? `${m.name} (${marks.join(", ")})` : m.name;
      return li;
    }),
  );
  $("ceremony-status").textContent = messages.get(`status-${shown.status}`) ?? shown.status;
  $("ceremony").hidden = false;
  $("deal").disabled = dealt.has(me) || shown.status === "complete";
  $("ack").disabled = acked.has(me) || shown.status !== "acknowledging";
  $("release").disabled = shown.status !== "complete" || !identity.elections[electionId()];
  return shown;
}

$("show-ceremony").addEventListener("click", (event) =>
  busy(event.target, async () => {
    await showCeremony();
    result.replaceChildren();
  }).then(refreshButtons),
);

async function refreshButtons() {
  if (identity && !$("ceremony").hidden) {
    try {
      await showCeremony();
    } catch {
      /* the message already says why */
    }
  }
}

$("deal").addEventListener("click", (event) =>
  busy(event.target, async () => {
    await client.deal(electionId(), identity);
    say("ok", messages.get("dealt-ok"));
  }).then(refreshButtons),
);

$("ack").addEventListener("click", (event) =>
  busy(event.target, async () => {
    await client.acknowledge(electionId(), identity, async () => offerFile(true));
    say("ok", messages.get("acked-ok"));
  }).then(refreshButtons),
);

$("release").addEventListener("click", (event) =>
  busy(event.target, async () => {
    const answer = await client.release(electionId(), identity);
    say(
      "ok",
      `${messages.get("released-ok")} (${answer.shares}/${answer.threshold})` +
        (answer.unsealed_seq !== null ? ` ${messages.get("unsealed")}` : ""),
    );
  }).then(refreshButtons),
);
