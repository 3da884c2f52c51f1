// Small inline-SVG plots (no library): time series with a cursor, and an x-y trajectory.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_POINTS = 1500;  // above this many frames, draw markers only for QC-flagged frames

function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function finite(v) { return typeof v === "number" && Number.isFinite(v); }

// min and max of the finite values (a loop: spreading a long video's values would overflow the stack)
function minMax(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) if (finite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : null;
}

function extent(values) {
  const mm = minMax(values);
  if (!mm) return [0, 1];
  let [lo, hi] = mm;
  if (lo === hi) { lo -= 0.5 * (Math.abs(lo) || 1); hi += 0.5 * (Math.abs(hi) || 1); }
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

function ticks(values) {
  const mm = minMax(values);
  if (!mm) return [];
  const [lo, hi] = mm;
  return lo === hi ? [lo] : [lo, (lo + hi) / 2, hi];
}

function fmt(v) {
  if (!finite(v)) return "";
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a === 0 ? "0" : v.toPrecision(2);
}

// A time-series plot. opts: {title, t: [s], series: [{name, y: [], color}], flagged: [bool],
// events: [{name, frame, t, index}] (optional vertical markers), onPick(index)}. Returns {svg, setCursor(time)}.
function timePlot(parent, opts) {
  const W = 360, H = 150, L = 44, R = 8, T = 8, B = 22;
  const box = document.createElement("div");
  box.className = "plot";
  box.innerHTML = `<div class="title"></div>`;
  box.querySelector(".title").textContent = opts.title;
  parent.appendChild(box);
  const svg = svgEl("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.title}, box);
  const t = opts.t;
  const [x0, x1] = extent(t);
  const [y0, y1] = extent(opts.series.flatMap(s => s.y));
  const sx = v => L + (v - x0) / (x1 - x0) * (W - L - R);
  const sy = v => H - B - (v - y0) / (y1 - y0) * (H - T - B);
  svgEl("line", {class: "axis", x1: L, x2: L, y1: T, y2: H - B}, svg);
  svgEl("line", {class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B}, svg);
  // axis labels at the data's own min, middle and max (the plot area is padded around them)
  const yTicks = ticks(opts.series.flatMap(s => s.y)), xTicks = ticks(t);
  for (const v of yTicks) svgEl("text", {x: L - 4, y: sy(v) + 3, "text-anchor": "end"}, svg).textContent = fmt(v);
  xTicks.forEach((v, k) => {
    const anchor = xTicks.length === 1 ? "middle" : ["start", "middle", "end"][k];
    svgEl("text", {x: sx(v), y: H - 6, "text-anchor": anchor}, svg).textContent = fmt(v) + " s";
  });
  opts.series.forEach((s, k) => {
    let d = "", pen = false;
    s.y.forEach((v, i) => {
      if (finite(v) && finite(t[i])) { d += `${pen ? "L" : "M"}${sx(t[i]).toFixed(1)},${sy(v).toFixed(1)}`; pen = true; }
      else pen = false;  // gaps stay gaps
    });
    svgEl("path", {d, fill: "none", stroke: s.color, "stroke-width": 1.5}, svg);
    const dense = s.y.length > MAX_POINTS;  // long videos: the line, plus markers only where QC flags
    s.y.forEach((v, i) => {
      if (!finite(v)) return;
      const flagged = opts.flagged && opts.flagged[i];
      if (dense && !flagged) return;
      svgEl("circle", {cx: sx(t[i]), cy: sy(v), r: flagged ? 3.2 : 1.8, fill: flagged ? null : s.color,
                       class: flagged ? "qc point" : "point", "data-index": i}, svg);
    });
    if (opts.series.length > 1) {
      svgEl("text", {x: W - R - 4, y: T + 10 + 11 * k, "text-anchor": "end", style: `fill:${s.color}`}, svg)
        .textContent = s.name;
    }
  });
  // events (the injection's contact, breakage...): a dashed line and its name; a click picks the event's frame
  (opts.events || []).forEach((ev, k) => {
    if (!finite(ev.t)) return;
    const g = svgEl("g", {class: "event", "data-index": ev.index, "data-name": ev.name, tabindex: 0}, svg);
    const x = sx(ev.t);
    svgEl("line", {x1: x, x2: x, y1: T, y2: H - B, class: ev.name === "breakage" ? "event-line main" : "event-line"}, g);
    svgEl("rect", {x: x - 4, y: T, width: 8, height: H - T - B, fill: "transparent"}, g);  // an easier target
    svgEl("text", {x: x + 2, y: T + 8 + 9 * (k % 4), class: "event-label"}, g).textContent = ev.name;
    svgEl("title", {}, g).textContent = `${ev.name}: frame ${ev.frame}, ${fmt(ev.t)} s`;
    g.addEventListener("click", e => { e.stopPropagation(); if (opts.onPick) opts.onPick(ev.index); });
  });
  const cursor = svgEl("line", {class: "cursor", x1: L, x2: L, y1: T, y2: H - B, visibility: "hidden"}, svg);
  svg.addEventListener("click", ev => {
    const pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    const x = pt.matrixTransform(svg.getScreenCTM().inverse()).x;
    let best = -1, dist = Infinity;
    t.forEach((ti, i) => { const dd = Math.abs(sx(ti) - x); if (finite(ti) && dd < dist) { dist = dd; best = i; } });
    if (best >= 0 && opts.onPick) opts.onPick(best);
  });
  return {
    svg,
    setCursor(time) {
      if (!finite(time)) { cursor.setAttribute("visibility", "hidden"); return; }
      const x = Math.min(Math.max(sx(time), L), W - R);
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x); cursor.setAttribute("visibility", "visible");
    },
  };
}

// The needle-tip path in image coordinates (y down, like the video). Returns {svg, setIndex(i)}.
function trajectoryPlot(parent, opts) {
  const W = opts.width || 640, H = opts.height || 480;
  const svg = svgEl("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "needle-tip trajectory",
                            style: "width:100%;height:auto;border:1px solid #d9dee4;background:#fafbfc"}, parent);
  let d = "", pen = false;
  opts.x.forEach((x, i) => {
    const y = opts.y[i];
    if (finite(x) && finite(y)) { d += `${pen ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`; pen = true; } else pen = false;
  });
  svgEl("path", {d, fill: "none", stroke: "#2c6fbb", "stroke-width": Math.max(W, H) / 250}, svg);
  const dense = opts.x.length > MAX_POINTS;
  opts.x.forEach((x, i) => {
    const y = opts.y[i];
    if (!finite(x) || !finite(y) || (dense && !opts.flagged[i])) return;
    const c = svgEl("circle", {cx: x, cy: y, r: Math.max(W, H) / (opts.flagged[i] ? 90 : 160),
                               class: opts.flagged[i] ? "qc point" : "point", fill: opts.flagged[i] ? null : "#2c6fbb",
                               "data-index": i}, svg);
    c.addEventListener("click", () => opts.onPick && opts.onPick(i));
  });
  const now = svgEl("circle", {r: Math.max(W, H) / 60, fill: "none", stroke: "#e65100", "stroke-width": Math.max(W, H) / 200,
                               visibility: "hidden"}, svg);
  return {
    svg,
    setIndex(i) {
      const x = opts.x[i], y = opts.y[i];
      if (i < 0 || !finite(x) || !finite(y)) { now.setAttribute("visibility", "hidden"); return; }
      now.setAttribute("cx", x); now.setAttribute("cy", y); now.setAttribute("visibility", "visible");
    },
  };
}

// The injection (issue #17): funnel depth and penetration against time, the events marked; a marker's
// click jumps to its frame. null when the analysis read no injection.
function injectionPlot(parent, frames, injection, t, flagged, pick) {
  if (!injection || !injection.data || !injection.data.length) return null;
  const fi = frames.columns.indexOf("frame_index");
  const rowOf = new Map(frames.data.map((r, i) => [r[fi], i]));
  const col = name => {
    const k = injection.columns.indexOf(name), y = t.map(() => null);
    if (k < 0) return y;
    const fk = injection.columns.indexOf("frame");
    for (const r of injection.data) { const i = rowOf.get(r[fk]); if (i !== undefined) y[i] = r[k]; }
    return y;
  };
  const events = injection.events.filter(ev => rowOf.has(ev.frame))
    .map(ev => ({name: ev.name, frame: ev.frame, index: rowOf.get(ev.frame), t: t[rowOf.get(ev.frame)]}));
  const s = injection.summary || {};
  const title = "injection (px along the needle)" + (s.mode ? ` · ${s.mode_text || s.mode}` : "");
  return timePlot(parent, {title, t, flagged, onPick: pick, events,
    series: [{name: "funnel depth", y: col("funnel_depth_px"), color: "#1565c0"},
             {name: "penetration", y: col("penetration_px"), color: "#ef6c00"}]});
}
