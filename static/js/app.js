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
