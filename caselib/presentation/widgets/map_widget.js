// caselib's world map widget: the outlines are drawn once as SVG; each update only recolours
// them, rewrites the legend and the hover texts. See map_widget.py.
//
// Everything shown comes from the kernel's state and is set as text (textContent,
// attributes), never as HTML: country names and labels are caselib's, but nothing here
// relies on that.
const SVG = "http://www.w3.org/2000/svg";
let counter = 0;

function node(tag, attributes = {}, parent = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, String(value));
  if (parent) parent.appendChild(el);
  return el;
}

function div(className, parent) {
  const el = document.createElement("div");
  el.className = className;
  if (parent) parent.appendChild(el);
  return el;
}

function render({ model, el }) {
  const id = `caselib-map-${++counter}`;
  const geometry = model.get("geometry");
  const hatch = model.get("hatch");
  el.classList.add("caselib-map");
  el.dataset.drawn = "0";
  const title = div("caselib-map-title", el);
  const frame = div("caselib-map-frame", el);
  const svg = node("svg", { viewBox: geometry.view.join(" "), role: "img", preserveAspectRatio: "xMidYMid meet" }, frame);
  const defs = node("defs", {}, svg);
  // The hatching of a country whose count is hidden, about 6 px apart at the usual sizes.
  // Sizes in screen pixels (hatching, dots) are set in SVG units from the drawn width (resize()).
  const pattern = node("pattern", { id: `${id}-hatch`, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, defs);
  const hatchBg = node("rect", { fill: hatch.bgcolor }, pattern);
  const hatchLine = node("line", { x1: 0, y1: 0, x2: 0, stroke: hatch.fgcolor }, pattern);
  node("path", { d: geometry.ocean, class: "ocean" }, svg);
  const countries = geometry.countries.map(([code, name, d, ax, ay], i) =>
    node("path", { d, class: "country", "data-iso3": code, "data-name": name, "data-index": i, "data-anchor": `${ax} ${ay}` }, svg));
  const dots = geometry.dots.map(([code, name, x, y], i) =>
    node("circle", { cx: x, cy: y, r: 10, class: "dot", "data-iso3": code, "data-name": name, "data-dot": i, "data-anchor": `${x} ${y}` }, svg));
  const tooltip = div("caselib-map-tooltip", frame);
  const resize = () => {
    const width = svg.getBoundingClientRect().width;
    if (!width) return;
    const unit = geometry.view[2] / width; // SVG units per pixel
    const size = hatch.size * unit;
    for (const [key, value] of [["width", size], ["height", size]]) {
      pattern.setAttribute(key, value); hatchBg.setAttribute(key, value);
    }
    hatchLine.setAttribute("y2", size);
    hatchLine.setAttribute("stroke-width", size * hatch.solidity);
    for (const dot of dots) dot.setAttribute("r", 4 * unit);
  };
  const observer = new ResizeObserver(resize);
  observer.observe(svg);
  const legend = div("caselib-map-legend", el);
  const note = div("caselib-map-note", el);
  let texts = [];
  let dotTexts = [];
  let drawn = 0;

  const draw = () => {
    const s = model.get("shading") || {};
    title.textContent = s.title || "";
    title.style.display = s.title ? "" : "none";
    svg.setAttribute("aria-label", s.title || "world map");
    const hatched = new Set(s.hatched || []);
    const fills = s.fills || [];
    countries.forEach((path, i) => {
      const fill = hatched.has(i) ? `url(#${id}-hatch)` : (fills[i] || "#d9d9d9");
      if (path.getAttribute("fill") !== fill) path.setAttribute("fill", fill);
    });
    const dotFills = s.dot_fills || [];
    const dotsShown = new Set(s.dots_shown || []);
    dots.forEach((dot, i) => {
      dot.setAttribute("fill", dotFills[i] || "#d9d9d9");
      dot.style.display = dotsShown.has(i) ? "" : "none";
    });
    texts = s.texts || [];
    dotTexts = s.dot_texts || [];
    // What each country shows, also for screen readers (and tests): "France: tips: 1,234".
    countries.forEach((path, i) => path.setAttribute("aria-label", `${path.dataset.name}: ${texts[i] || ""}`));
    dots.forEach((dot, i) => dot.setAttribute("aria-label", `${dot.dataset.name}: ${dotTexts[i] || ""}`));
    legend.replaceChildren();
    const heading = div("caselib-map-legend-title", legend);
    heading.textContent = s.legend_title || "";
    for (const [name, colour, isHatched] of s.legend || []) {
      const item = div("caselib-map-legend-item", legend);
      const swatch = div("caselib-map-swatch", item);
      if (isHatched) swatch.classList.add("hatched");
      else swatch.style.background = colour;
      const label = document.createElement("span");
      label.textContent = name;
      item.appendChild(label);
    }
    note.textContent = s.note || "";
    note.style.display = s.note ? "" : "none";
    // After the browser has painted the change: what a benchmark or a test waits for.
    requestAnimationFrame(() => setTimeout(() => {
      drawn += 1;
      el.dataset.drawn = String(drawn);
      el.dispatchEvent(new CustomEvent("caselib-map-drawn", { bubbles: true, detail: { drawn } }));
    }, 0));
  };

  const target = (event) => {
    const t = event.target;
    if (!(t instanceof Element)) return null;
    if (t.dataset.index !== undefined) return { code: t.dataset.iso3, name: t.dataset.name, text: texts[+t.dataset.index] };
    if (t.dataset.dot !== undefined) return { code: t.dataset.iso3, name: t.dataset.name, text: dotTexts[+t.dataset.dot] };
    return null;
  };
  const hover = (event) => {
    const found = target(event);
    if (!found) { tooltip.style.display = "none"; return; }
    const box = frame.getBoundingClientRect();
    const strong = document.createElement("b");
    strong.textContent = found.name;
    const line = document.createElement("div");
    line.textContent = found.text || "";
    tooltip.replaceChildren(strong, line);
    tooltip.style.display = "block";
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    // Kept inside the map: to the left of the pointer on the right half.
    tooltip.style.left = x > box.width / 2 ? "" : `${x + 12}px`;
    tooltip.style.right = x > box.width / 2 ? `${box.width - x + 12}px` : "";
    tooltip.style.top = `${Math.max(0, y - 10)}px`;
  };
  const click = (event) => {
    const found = target(event);
    if (found) model.send({ type: "click", iso3: found.code });
  };
  svg.addEventListener("pointermove", hover);
  svg.addEventListener("pointerleave", () => { tooltip.style.display = "none"; });
  svg.addEventListener("click", click);
  model.on("change:shading", draw);
  draw();
  return () => { model.off("change:shading", draw); observer.disconnect(); };
}

export default { render };
