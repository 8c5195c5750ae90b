/**
 * What the pages' scripts say: the translated messages a page carries in its
 * `#messages` list (one `<li data-code>` each), and a checker's exact wording folded
 * away under a translated "technical details" title.
 */

/** The page's messages by code. */
export function pageMessages() {
  return new Map(
    [...document.querySelectorAll("#messages [data-code]")].map((li) => [li.dataset.code, li.textContent]),
  );
}

/**
 * A `<details>` holding what exactly did not match, as the checking code words it (in
 * English, the language of the protocol's description), under `title`.
 */
export function technicalDetails(title, detail) {
  const more = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = title;
  const code = document.createElement("code");
  code.lang = "en";
  code.textContent = detail;
  more.append(summary, code);
  return more;
}
