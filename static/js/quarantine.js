// The quarantine list: "select all on this page" for the bulk purge. Progressive enhancement
// only (the checkboxes work without it); no inline scripts (CSP).
function quarantineBoxes(name) {
  return Array.from(document.querySelectorAll(`input[type=checkbox][name="${name}"]`));
}

document.addEventListener("change", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLInputElement)) return;
  const group = target.getAttribute("data-select-all");
  if (group) {
    quarantineBoxes(group).forEach((box) => { box.checked = target.checked; });
    return;
  }
  if (target.name === "ids") {
    const all = document.querySelector('input[data-select-all="ids"]');
    if (all instanceof HTMLInputElement) {
      const boxes = quarantineBoxes("ids");
      all.checked = boxes.length > 0 && boxes.every((box) => box.checked);
      all.indeterminate = !all.checked && boxes.some((box) => box.checked);
    }
  }
});
