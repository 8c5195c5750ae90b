/**
 * The survey builder's conditions (docs/protocol.md §20.2): "ask only after an answer to
 * question N" offers the options of question N as boxes to tick, rebuilt as soon as
 * another question is named or that question's options are edited (a ticked option stays
 * ticked, wherever its line moves). The boxes are posted as `q<n>-show_any`, one
 * number each, with `q<n>-show_for` naming the question they were ticked for; the
 * select's entries follow the questions' texts as they are typed.
 *
 * Without JavaScript the page works the same after "Check and preview": the server draws
 * the boxes of the question named, or a field for the options' numbers ("1, 3").
 */
import { stripSpace } from "./veche-crypto.js";

const form = document.getElementById("builder-form");
const ticksTemplate = document.getElementById("condition-ticks");
const emptyTemplate = document.getElementById("condition-empty");

/** The options of the question whose id is `qid`, one per non-blank line, as the server
 * reads them (option k is the k-th line, numbered from 1). */
function optionsOf(qid) {
  const question = [...form.querySelectorAll("fieldset.survey-q")].find((f) => f.dataset.qid === qid);
  const area = question?.querySelector("textarea[name$='-options']");
  if (!area) return [];
  return area.value
    .replace(/\r/g, "")
    .split("\n")
    .map(stripSpace)
    .filter(Boolean);
}

/** The option numbers ticked (or typed) in a condition, for the question it names now. */
function ticked(condition, qid) {
  const slot = condition.querySelector(".show-any");
  const shownFor = slot.querySelector("input[name$='-show_for']");
  if (shownFor && shownFor.value !== qid) return new Set();
  const boxes = [...slot.querySelectorAll("input[type=checkbox]")];
  if (boxes.length || shownFor) return new Set(boxes.filter((b) => b.checked).map((b) => Number(b.value)));
  const typed = slot.querySelector("input[name$='-show_any']")?.value ?? "";
  return new Set((typed.match(/\d+/g) ?? []).map(Number));
}

/**
 * The numbers to tick among `titles` after an edit of the options, which were `before`:
 * a ticked option keeps its tick where its text went (a line added above it moves it
 * down); an option edited in place (its text is new) keeps the tick at its place.
 */
function carried(numbers, before, titles) {
  const out = new Set();
  for (const k of numbers) {
    const title = before[k - 1];
    const at = title === undefined ? -1 : titles.indexOf(title);
    if (at !== -1) out.add(at + 1);
    else if (k <= titles.length && !before.includes(titles[k - 1])) out.add(k);
  }
  return out;
}

/** Draws a condition's boxes for the question its select names now. */
function draw(condition) {
  const p = condition.dataset.condition;
  const select = condition.querySelector("select");
  const slot = condition.querySelector(".show-any");
  const qid = select.value;
  slot.hidden = !qid;
  if (!qid) {
    slot.replaceChildren();
    return;
  }
  const titles = optionsOf(qid);
  const drawn = slot.dataset.drawn;
  const key = JSON.stringify([qid, titles]);
  if (drawn === key) return;
  const [drawnFor, before] = drawn ? JSON.parse(drawn) : [null, null];
  const numbers = ticked(condition, qid);
  const keep = drawnFor === qid && before ? carried(numbers, before, titles) : numbers;
  const shownFor = document.createElement("input");
  shownFor.type = "hidden";
  shownFor.name = `${p}-show_for`;
  shownFor.value = qid;
  if (!titles.length) {
    slot.replaceChildren(shownFor, emptyTemplate.content.cloneNode(true));
  } else {
    const fieldset = ticksTemplate.content.firstElementChild.cloneNode(true);
    fieldset.setAttribute("aria-describedby", `err-${p}-show_any`);
    titles.forEach((title, k) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = `${p}-show_any`;
      box.value = String(k + 1);
      box.checked = keep.has(k + 1);
      label.append(box, ` ${title}`);
      fieldset.append(label);
    });
    slot.replaceChildren(shownFor, fieldset);
  }
  slot.dataset.drawn = key;
}

/** The select's entry of a question follows its text: "Question 2: Where…". */
function renameEntries(question) {
  const qid = question.dataset.qid;
  const text = stripSpace(question.querySelector("input[name$='-text']")?.value ?? "");
  const short = [...text].length > 60 ? `${[...text].slice(0, 59).join("").trimEnd()}…` : text;
  for (const option of form.querySelectorAll("select[name$='-show_q'] option")) {
    if (option.value === qid && option.dataset.number) {
      option.textContent = short ? `${option.dataset.number}: ${short}` : option.dataset.number;
    }
  }
}

const conditions = () => [...form.querySelectorAll("[data-condition]")];

form.addEventListener("input", (event) => {
  const target = event.target;
  const question = target.closest("fieldset.survey-q");
  if (target.matches("select[name$='-show_q']")) draw(target.closest("[data-condition]"));
  else if (target.matches("textarea[name$='-options']") && question) {
    for (const condition of conditions()) {
      if (condition.querySelector("select").value === question.dataset.qid) draw(condition);
    }
  } else if (target.matches("input[name$='-text']") && question) renameEntries(question);
});

for (const condition of conditions()) {
  // What the server drew is kept as drawn (with its ticks) unless it was the typed field.
  const slot = condition.querySelector(".show-any");
  const qid = condition.querySelector("select").value;
  if (slot.querySelector("input[name$='-show_for']")) slot.dataset.drawn = JSON.stringify([qid, optionsOf(qid)]);
  draw(condition);
}

// On a wide screen the preview scrolls on its own: it follows the question being edited.
const live = document.getElementById("live");
form.addEventListener("focusin", (event) => {
  const qid = event.target.closest("fieldset.survey-q")?.dataset.qid;
  if (!qid || live.scrollHeight <= live.clientHeight) return;
  const shown = live.querySelector(`fieldset.question[data-question="${CSS.escape(qid)}"]`);
  if (shown) live.scrollTo({ top: Math.max(0, shown.offsetTop - 12), behavior: "smooth" });
});
