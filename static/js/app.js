// Progressive enhancement only; every page works without it. No inline scripts (CSP).
document.documentElement.classList.add("js");

// <select data-autosubmit> submits its form on change (tenant switcher).
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});

// Close the user menu when clicking elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.user-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});

// Keep htmx-pushed list URLs short and shareable: drop empty filter fields.
document.addEventListener("htmx:configRequest", (event) => {
  const parameters = event.detail.parameters;
  if (event.detail.verb !== "get" || !parameters) return;
  for (const [name, value] of Array.from(parameters.entries())) {
    if (value === "") parameters.delete(name);
  }
});

// The lead list's group picker: its summary names the ticked groups (htmx swaps only the table),
// and it closes when clicking elsewhere, as the user menu does.
document.addEventListener("change", (event) => {
  const picker = event.target instanceof Element ? event.target.closest(".group-picker") : null;
  if (!picker) return;
  const value = picker.querySelector(".group-picker-value");
  const ticked = Array.from(picker.querySelectorAll("input[name=group]:checked"), (box) => box.value);
  value.textContent = ticked.length ? ticked.join(", ") : value.dataset.empty;
  value.classList.toggle("is-set", ticked.length > 0);
});
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.group-picker[open]").forEach((picker) => {
    if (!picker.contains(event.target)) picker.removeAttribute("open");
  });
});

// The lead list's bulk bar: "select all on this page" ticks every row, the count follows the
// ticks, and only the fields the chosen action needs show. Without JavaScript the box posts
// all_on_page=1 and every field shows.
function bulkSync(form) {
  const rows = Array.from(document.querySelectorAll("input[data-bulk-row][form='" + form.id + "']"));
  const all = form.querySelector("[data-bulk-all]");
  const count = form.querySelector("[data-bulk-count]");
  const ticked = rows.filter((box) => box.checked).length;
  if (all) {
    all.checked = rows.length > 0 && ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  }
  if (count) count.textContent = ticked ? count.dataset.template.replace("{n}", String(ticked)) : "";
  const action = form.querySelector("[data-bulk-action]");
  form.querySelectorAll("[data-bulk-for]").forEach((field) => {
    const wanted = field.dataset.bulkFor.split(" ");
    field.classList.toggle("is-off", !action || !wanted.includes(action.value));
  });
}
document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) return;
  if (target.hasAttribute("data-bulk-all") && target.form) {
    const on = target.checked;
    document.querySelectorAll("input[data-bulk-row][form='" + target.form.id + "']").forEach((box) => { box.checked = on; });
    bulkSync(target.form);
  } else if (target.hasAttribute("data-bulk-row") && target.form) {
    bulkSync(target.form);
  } else if (target.hasAttribute("data-bulk-action") && target.form) {
    bulkSync(target.form);
  }
});
document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("form.bulk-bar").forEach(bulkSync));
document.addEventListener("htmx:afterSettle", () => document.querySelectorAll("form.bulk-bar").forEach(bulkSync));
