/**
 * A survey ballot (docs/protocol.md §19) on the ballot page: shows a conditional question
 * only while the earlier answer it depends on is given (a hidden question keeps what was
 * typed, but is left out of the choices), keeps each question's limits as the voter fills
 * it (checkboxes up to the most allowed, a budget question's running total, a text's
 * characters counted), and reads the answers into the choices that are sealed:
 * {"answers": {question id: answer}}.
 *
 * Problems are shown next to their question; nothing the voter typed is cleared. A text is
 * trimmed and judged by veche-crypto.js's own rules (§19.2: white space as Python reads
 * it, control characters and lone surrogates refused, the length in code points), the
 * ones the ballot is checked by again before it is sealed.
 */
import { stripSpace, textProblem } from "./veche-crypto.js";

const messages = new Map(
  [...document.querySelectorAll("#survey-messages [data-code]")].map((li) => [
    li.dataset.code,
    li.textContent,
  ]),
);
const say = (code) => messages.get(code) ?? code;

/** The survey's answers were refused before sealing: ``problems`` maps question ids to codes. */
export class SurveyIncomplete extends Error {
  constructor(problems) {
    super("survey incomplete");
    this.code = "fix_answers";
    this.problems = problems;
  }
}

const questions = () => [...document.querySelectorAll("fieldset.question[data-question]")];
const inputs = (fieldset) => [...fieldset.querySelectorAll(`[name="q-${fieldset.dataset.question}"]`)];

function moneyFormat(form) {
  const data = form.dataset;
  const format = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency",
    currency: data.currency || "RUB",
    currencyDisplay: "narrowSymbol",
    maximumFractionDigits: 0,
  });
  const unit = BigInt(data.unit || 1);
  return (minor) => format.format(String(BigInt(minor) / unit));
}

/** The raw answer of a question as the voter left it (null: not answered). */
function rawAnswer(fieldset) {
  const kind = fieldset.dataset.kind;
  const fields = inputs(fieldset);
  if (kind === "single") {
    const checked = fields.find((f) => f.checked);
    return checked ? checked.value : null;
  }
  if (kind === "scale") {
    const checked = fields.find((f) => f.checked);
    return checked ? Number(checked.value) : null;
  }
  if (kind === "multiple" || kind === "budget") {
    const chosen = fields.filter((f) => f.checked).map((f) => f.value);
    return chosen.length ? chosen : null;
  }
  if (kind === "ranking") {
    const ranked = fields.map((f) => f.value);
    return ranked.some(Boolean) ? ranked : null;
  }
  if (kind === "text") {
    const text = stripSpace(fields[0].value);
    return text ? text : null;
  }
  return null;
}

/** Whether a question is shown, by the answer to the earlier question it depends on. */
function isShown(fieldset, byId) {
  const parentId = fieldset.dataset.showIf;
  if (!parentId) return true;
  const parent = byId.get(parentId);
  if (!parent || !isShown(parent, byId)) return false;
  const wanted = JSON.parse(fieldset.dataset.showAny || "[]");
  const answer = rawAnswer(parent);
  const given = answer === null ? [] : Array.isArray(answer) ? answer : [answer];
  return given.some((value) => wanted.includes(value));
}

function setError(fieldset, code) {
  const box = fieldset.querySelector(".q-error");
  box.textContent = code ? say(code) : "";
  fieldset.classList.toggle("has-error", Boolean(code));
  for (const field of inputs(fieldset)) {
    if (code) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }
}

/** The problem of a shown question's answer, as the server would name it, or null. */
function problemOf(fieldset, answer) {
  const d = fieldset.dataset;
  if (answer === null) return d.optional === "true" ? null : "missing_answer";
  if (d.kind === "multiple" && answer.length < Number(d.min)) return "too_few_options";
  if (d.kind === "multiple" && answer.length > Number(d.max)) return "too_many_options";
  if (d.kind === "budget") {
    if (answer.length < Number(d.min)) return "too_few_projects";
    if (answer.length > Number(d.max)) return "too_many_projects";
    if (d.limit !== undefined && spentOn(fieldset) > BigInt(d.limit)) return "over_budget";
  }
  if (d.kind === "ranking") {
    const filled = answer.filter(Boolean);
    const firstGap = answer.indexOf("");
    if (firstGap !== -1 && answer.slice(firstGap).some(Boolean)) return "rank_gap";
    if (new Set(filled).size !== filled.length) return "duplicate_option";
    if (filled.length < Number(d.min)) return "too_few_options";
  }
  if (d.kind === "text") {
    const problem = textProblem(answer, Number(d.maxLength));
    if (problem) return problem[0];
  }
  return null;
}

function spentOn(fieldset) {
  return inputs(fieldset)
    .filter((f) => f.checked)
    .reduce((sum, f) => sum + BigInt(f.dataset.cost || 0), 0n);
}

/** Shows and hides the conditional questions; keeps every question's limits. */
export function refreshSurvey(form) {
  const all = questions();
  const byId = new Map(all.map((f) => [f.dataset.question, f]));
  const money = moneyFormat(form);
  for (const fieldset of all) {
    const shown = isShown(fieldset, byId);
    fieldset.hidden = !shown;
    for (const field of inputs(fieldset)) field.disabled = !shown;
    if (!shown) setError(fieldset, null);
    const d = fieldset.dataset;
    if (!shown) continue;
    if (d.kind === "multiple" || d.kind === "budget") {
      const boxes = inputs(fieldset);
      const chosen = boxes.filter((b) => b.checked);
      const full = chosen.length >= Number(d.max);
      const spent = d.kind === "budget" ? spentOn(fieldset) : 0n;
      const limit = d.limit === undefined ? null : BigInt(d.limit);
      for (const box of boxes) {
        if (box.checked) continue;
        const over = limit !== null && spent + BigInt(box.dataset.cost || 0) > limit;
        box.disabled = full || over;
        box.closest("li").classList.toggle("unaffordable", over);
        box.title = over ? say("over_budget") : full ? say(d.kind === "budget" ? "too_many_projects" : "too_many_options") : "";
      }
      if (limit !== null) {
        fieldset.querySelector(".q-meter").value = Number(spent);
        fieldset.querySelector(".q-left").textContent =
          `${say("spent")}: ${money(spent)} · ${money(limit - spent)} ${say("left")}`;
      }
    } else if (d.kind === "text") {
      // Counted as the server counts: code points, without the surrounding white space.
      const length = [...stripSpace(inputs(fieldset)[0].value)].length;
      const count = fieldset.querySelector(".q-count");
      count.textContent = say("characters").replace("{1}", String(length)).replace("{2}", d.maxLength);
      count.classList.toggle("over", length > Number(d.maxLength));
    }
  }
}

/**
 * The choices to seal, {"answers": {...}}: shown questions only, optional ones only when
 * answered. Throws SurveyIncomplete (after marking each question at fault) otherwise.
 */
export function surveyChoices(form) {
  refreshSurvey(form);
  const answers = {};
  const problems = {};
  for (const fieldset of questions()) {
    if (fieldset.hidden) continue;
    const answer = rawAnswer(fieldset);
    const problem = problemOf(fieldset, answer);
    setError(fieldset, problem);
    if (problem) {
      problems[fieldset.dataset.question] = problem;
      continue;
    }
    if (answer === null) continue;
    answers[fieldset.dataset.question] =
      fieldset.dataset.kind === "ranking" ? answer.filter(Boolean) : answer;
  }
  const first = Object.keys(problems)[0];
  if (first) {
    const fieldset = document.getElementById(`q-${first}`);
    fieldset.scrollIntoView({ block: "start" });
    inputs(fieldset).find((f) => !f.disabled)?.focus({ preventScroll: true });
    throw new SurveyIncomplete(problems);
  }
  return { answers };
}

/**
 * Shows a refusal of the answers (BallotRejected, docs/protocol.md §19.2) next to the
 * question its detail names in quotes ("the question 'lanes' needs an answer"), in the
 * page's words when the code is one of its own.
 */
export function showSurveyRefusal(exc) {
  const named = /'([a-z0-9]+(?:-[a-z0-9]+)*)'/g;
  for (const [, id] of String(exc?.detail ?? "").matchAll(named)) {
    const fieldset = document.getElementById(`q-${id}`);
    if (fieldset?.matches("fieldset.question") && messages.has(exc.code)) {
      setError(fieldset, exc.code);
      return true;
    }
  }
  return false;
}

export function startSurvey(form) {
  form.addEventListener("input", (event) => {
    const fieldset = event.target.closest("fieldset.question");
    if (fieldset?.classList.contains("has-error")) {
      const answer = rawAnswer(fieldset);
      setError(fieldset, problemOf(fieldset, answer));
    }
    refreshSurvey(form);
  });
  form.addEventListener("change", () => refreshSurvey(form));
  for (const button of form.querySelectorAll(".q-clear")) {
    button.addEventListener("click", () => {
      for (const field of inputs(button.closest("fieldset.question"))) field.checked = false;
      refreshSurvey(form);
    });
  }
  refreshSurvey(form);
}
