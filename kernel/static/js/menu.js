/**
 * The menu button of narrow screens: the page's menu folds behind it once this script
 * runs (without JavaScript the menu simply stays open). The button says whether the menu
 * is open (aria-expanded); Escape closes it and gives the focus back to the button.
 */
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("menu-button");
  const header = button?.closest("header");
  if (!button || !header) return;
  const setOpen = (open) => {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  };
  button.addEventListener("click", () => setOpen(!header.classList.contains("menu-open")));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
});
