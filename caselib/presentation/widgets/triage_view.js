// caselib's triage list: the rows the kernel built (triage_view.py) and the keys that decide.
//
// The list's HTML is built in the kernel, every tip text HTML-escaped there and only the
// names found in it wrapped in <mark>: nothing from a tip reaches the page as markup.
// Keys are read only while the list has the focus (click it, or Tab to it), never while
// the reason is typed; JupyterLab's own shortcuts ("a" inserts a cell, "d d" deletes one)
// are suppressed inside it. A key goes to the kernel as {type: "key", key}; gaining the
// focus as {type: "focus"} (the kernel then takes the write connection, ahead of a decision).
function render({ model, el }) {
  el.classList.add("caselib-triage");
  el.tabIndex = 0;
  el.setAttribute("data-lm-suppress-shortcuts", "true");
  el.setAttribute("role", "listbox");
  el.setAttribute("aria-label", "tips to triage; keys decide");
  el.dataset.drawn = "0";
  let drawn = 0;

  const draw = () => {
    el.innerHTML = model.get("html") || "";
    const current = el.querySelector("tr.current");
    if (current && el.contains(document.activeElement)) current.scrollIntoView({ block: "nearest" });
    // After the browser has painted the change: what the browser test and benchmark wait for.
    requestAnimationFrame(() => setTimeout(() => {
      drawn += 1;
      el.dataset.drawn = String(drawn);
      el.dispatchEvent(new CustomEvent("caselib-triage-drawn", { bubbles: true, detail: { drawn } }));
    }, 0));
  };
  const keydown = (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const key = (event.key || "").toLowerCase();
    if (!(key in (model.get("accepted_keys") || {}))) return;
    event.preventDefault();
    event.stopPropagation();
    model.send({ type: "key", key });
  };
  const focus = () => model.send({ type: "focus" });
  const click = () => el.focus({ preventScroll: true });
  el.addEventListener("keydown", keydown);
  el.addEventListener("focus", focus);
  el.addEventListener("click", click);
  model.on("change:html", draw);
  draw();
  return () => {
    model.off("change:html", draw);
    el.removeEventListener("keydown", keydown);
    el.removeEventListener("focus", focus);
    el.removeEventListener("click", click);
  };
}

export default { render };
