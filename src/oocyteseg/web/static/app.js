// The page: job list with live progress and the viewer (video + plots + table); uploads and inbox: uploads.js.
"use strict";

const state = {selected: null, loaded: null, jobs: [], frames: null, plots: [], traj: null, rowIndex: -1};
const $ = sel => document.querySelector(sel);

async function api(path, options) {
  const res = await fetch(path, options);
  const body = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  if (!res.ok) throw new Error((body && body.detail) || `${res.status} ${res.statusText}`);
  return body;
}

function message(text, isError) {
  const li = document.createElement("li");
  li.textContent = text;
  if (isError) li.className = "error";
  $("#upload-messages").prepend(li);
  while ($("#upload-messages").children.length > 8) $("#upload-messages").lastChild.remove();
}

// ---- job list ----
function renderJobs() {
  const ul = $("#jobs");
  ul.replaceChildren();
  if (!state.jobs.length) ul.innerHTML = `<li class="muted small">no analyses yet</li>`;
  for (const job of state.jobs) {
    const li = document.createElement("li");
    li.className = "job" + (job.id === state.selected ? " selected" : "");
    li.dataset.state = job.state;
    li.dataset.id = job.id;
    const when = new Date(job.created * 1000).toLocaleString();
    li.innerHTML = `<span class="state"></span><div class="name"></div><div class="muted small"></div>`;
    li.querySelector(".state").textContent = job.state === "running" ? `${Math.round(job.progress * 100)} %` : job.state;
    li.querySelector(".name").textContent = job.name;
    li.querySelector(".small").textContent = when;
    if (job.state === "running" || job.state === "queued") {
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.innerHTML = `<div style="width:${(job.progress * 100).toFixed(1)}%"></div>`;
      li.appendChild(bar);
    }
    if (job.state === "failed") {
      const err = document.createElement("div");
      err.className = "error small job-error";
      err.textContent = job.error;
      li.appendChild(err);
    }
    li.addEventListener("click", () => { state.selected = job.id; renderJobs(); showSelected(); });
    ul.appendChild(li);
  }
}

async function refreshJobs() {
  try {
    const [{jobs}, health] = await Promise.all([api("/api/jobs"), api("/api/health")]);
    state.jobs = jobs;
    $("#health").textContent = `model ${health.model} · ${health.running} running · ${health.queued} queued`;
    $("#accepted").textContent = health.accepted;
    if (!state.selected && jobs.length) state.selected = jobs[0].id;
    renderJobs();
    showSelected();
  } catch (err) {
    $("#health").textContent = `server unreachable (${err.message})`;
  }
}

// ---- viewer ----
async function showSelected() {
  const job = state.jobs.find(j => j.id === state.selected);
  if (!job) return;
  if (job.state !== "done") {  // say where the selected job stands; its results open here when done
    $("#viewer").hidden = true;
    $("#placeholder").hidden = false;
    $("#placeholder").textContent = job.state === "failed" ? `${job.name} failed: ${job.error}`
      : `${job.name} is ${job.state}${job.state === "running" ? ` (${Math.round(job.progress * 100)} %)` : ""}; ` +
        "its results open here when it is done.";
    if (state.video) state.video.pause();
    state.loaded = null;
    state.video = null;
    return;
  }
  if (state.loaded === job.id) return;
  state.loaded = job.id;
  try {
    const [frames, injection] = await Promise.all([api(`/api/jobs/${job.id}/frames`),
                                                   api(`/api/jobs/${job.id}/injection`)]);
    buildViewer(job, frames, injection);
  } catch (err) {
    state.loaded = null;  // try again on the next poll
    message(`${job.name}: cannot show the results (${err.message})`, true);
  }
}

function column(frames, name) {
  const i = frames.columns.indexOf(name);
  return i < 0 ? frames.data.map(() => null) : frames.data.map(r => r[i]);
}

function buildViewer(job, frames, injection) {
  $("#placeholder").hidden = true;
  $("#viewer").hidden = false;
  $("#viewer-title").textContent = job.name;
  const s = job.summary || {};
  const model = s.model ? ` · model ${s.model.name} (${s.model.backend})` : "";
  $("#viewer-summary").textContent = `${frames.data.length} frame(s) · ${fmt(s.duration_s ?? 0)} s of video · ` +
    `analysed in ${fmt(s.processing_s ?? 0)} s · ${(s.qc && s.qc.frames_flagged) ?? 0} QC-flagged${model}` +
    (s.report_error ? ` · no HTML report: ${s.report_error}` : "");
  const time = column(frames, "time_s");
  const t0 = time.find(Number.isFinite) ?? 0;
  const t = time.map(v => (Number.isFinite(v) ? v - t0 : null));
  // the engine's qc_flagged: a jump or a real problem (not merely "no sERC in this frame")
  const flaggedCol = frames.columns.includes("qc_flagged") ? column(frames, "qc_flagged") : column(frames, "qc_jump");
  const flagged = flaggedCol.map(Boolean);
  state.frames = {t, flagged, n: frames.data.length};

  // media
  const media = $("#media");
  media.replaceChildren();
  let video = null;
  if (job.artefacts.includes("overlay.mp4")) {
    video = document.createElement("video");
    video.src = `/api/jobs/${job.id}/files/overlay.mp4`;
    video.controls = true; video.muted = true; video.preload = "auto"; video.id = "overlay-video";
    media.appendChild(video);
  } else if (job.artefacts.includes("overlay.png")) {
    const img = document.createElement("img");
    img.src = `/api/jobs/${job.id}/files/overlay.png`;
    img.alt = "overlay";
    media.appendChild(img);
  }
  state.video = video;
  // The overlay video holds the analysed frames in order at the analysis rate: row i is its frame i.
  const n = frames.data.length;
  const fps = s.analysed_fps || (n > 1 ? (n - 1) / Math.max(t[n - 1] - t[0], 1e-6) : 1);
  state.frames.fps = fps;
  const pick = i => {
    if (video) video.currentTime = (i + 0.25) / fps;  // inside the frame, not on its edge
    highlight(i);
  };

  // plots
  const plots = $("#plots");
  plots.replaceChildren();
  const series = headlineSeries(frames.columns);
  state.plots = series.map(([c, title, color]) =>
    timePlot(plots, {title, t, series: [{name: c, y: column(frames, c), color}], flagged, onPick: pick}));
  const traj = $("#trajectory");
  traj.replaceChildren();
  state.traj = null;
  if (frames.columns.includes("tip_x")) {  // a label set with a needle role
    const tipX = column(frames, "tip_x"), tipY = column(frames, "tip_y");
    state.plots.push(timePlot(plots, {title: "needle tip position (px)", t, flagged, onPick: pick,
      series: [{name: "tip x", y: tipX, color: "#00838f"}, {name: "tip y", y: tipY, color: "#ad1457"},
               ...(frames.columns.includes("tip_x_smooth") ? [
                 {name: "x smoothed", y: column(frames, "tip_x_smooth"), color: "#80cbc4"},
                 {name: "y smoothed", y: column(frames, "tip_y_smooth"), color: "#f48fb1"}] : [])]}));
    state.traj = trajectoryPlot(traj, {x: tipX, y: tipY, flagged, onPick: pick,
      width: s.width || 640, height: s.height || 480});
  }

  const inj = injectionPlot(plots, frames, injection, t, flagged, pick);
  if (inj) state.plots.push(inj);

  // downloads
  const dl = $("#downloads");
  dl.replaceChildren();
  for (const name of job.artefacts) {
    const li = document.createElement("li");
    li.innerHTML = `<a></a>`;
    li.firstChild.href = `/api/jobs/${job.id}/files/${name}`;
    li.firstChild.textContent = name;
    if (name.endsWith(".html")) li.firstChild.target = "_blank";  // the report opens beside the page
    else li.firstChild.setAttribute("download", "");
    dl.appendChild(li);
  }

  buildTable(frames, flagged, pick);
  state.rowIndex = -1;
  if (video) {
    const follow = () => highlight(frameAt(video.currentTime));
    video.addEventListener("timeupdate", follow);
    video.addEventListener("seeked", follow);
    const tick = () => { if (!video.paused) follow(); if (state.video === video) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }
  highlight(0);
}

const SHIMOTSU = [["f1", "f1 circularity of sERC", "#6a1b9a"], ["f2", "f2 sERC / oocyte area", "#2e7d32"],
                  ["f3", "f3 oocyte x − tip x (px)", "#1565c0"], ["f4", "f4 oocyte y − tip y (px)", "#ef6c00"]];
const PALETTE = ["#6a1b9a", "#2e7d32", "#1565c0", "#ef6c00"];

// The curves a label set leads with: f1-f4 when the model has the ICSI roles, else its own areas
// (the same rule as the HTML report's, oocyteseg.morphometry.measure.headline_columns).
function headlineSeries(columns) {
  const shimotsu = SHIMOTSU.filter(([c]) => columns.includes(c));
  if (shimotsu.length) return shimotsu;
  return columns.filter(c => c.endsWith("_area") || c.endsWith("_thickness_mean")).slice(0, 4)
    .map((c, k) => [c, `${c.replace(/_/g, " ")} (px)`, PALETTE[k]]);
}

function frameAt(time) {
  return Math.min(Math.max(Math.floor(time * state.frames.fps + 1e-6), 0), state.frames.n - 1);
}

const TABLE_ALL = 3000, TABLE_WINDOW = 400;  // long videos: only rows around the current frame are in the DOM

function buildTable(frames, flagged, pick) {
  const wanted = ["frame_index", "time_s", ...headlineSeries(frames.columns).map(([c]) => c), "tip_x", "tip_y",
                  "oocyte_area", "serc_area", "penetration_depth", "qc", "reason"];
  const cols = wanted.filter(c => frames.columns.includes(c));
  const head = document.createElement("tr");
  for (const c of cols) { const th = document.createElement("th"); th.textContent = c; head.appendChild(th); }
  $("#frame-table thead").replaceChildren(head);
  state.table = {frames, flagged, pick, cols, idx: cols.map(c => frames.columns.indexOf(c)), start: 0, end: 0};
  renderRows(0);
}

function renderRows(around) {
  const tb = state.table, n = tb.frames.data.length;
  const start = n <= TABLE_ALL ? 0 : Math.max(0, Math.min(around - TABLE_WINDOW / 2, n - TABLE_WINDOW));
  const end = n <= TABLE_ALL ? n : start + TABLE_WINDOW;
  const rows = [];
  for (let i = start; i < end; i++) {
    const r = tb.frames.data[i], tr = document.createElement("tr");
    tr.dataset.index = i;
    if (tb.flagged[i]) tr.className = "qc";
    tb.idx.forEach((k, j) => {
      const td = document.createElement("td"), v = r[k];
      if (typeof v === "number") td.textContent = tb.cols[j] === "frame_index" ? String(v) : fmt(v);
      else { td.textContent = v ?? ""; td.className = "text"; }
      tr.appendChild(td);
    });
    tr.addEventListener("click", () => tb.pick(i));
    rows.push(tr);
  }
  $("#frame-table tbody").replaceChildren(...rows);
  tb.start = start; tb.end = end;
}

function highlight(i) {
  if (!state.frames || i === state.rowIndex) return;
  const tb = state.table;
  if (i < tb.start || i >= tb.end) renderRows(i);
  const rows = $("#frame-table tbody").children;
  const old = rows[state.rowIndex - tb.start];
  if (old) old.classList.remove("current");
  state.rowIndex = i;
  const r = rows[i - tb.start];
  if (r) {
    r.classList.add("current");
    const wrap = $("#table-wrap"), head = 24;  // scroll the table only, never the page
    if (r.offsetTop - head < wrap.scrollTop || r.offsetTop + r.offsetHeight > wrap.scrollTop + wrap.clientHeight) {
      wrap.scrollTop = Math.max(0, r.offsetTop - wrap.clientHeight / 2);
    }
  }
  const time = state.frames.t[i];
  for (const p of state.plots) p.setCursor(time);
  if (state.traj) state.traj.setIndex(i);
  $("#frame-now").textContent = `frame ${i + 1} of ${state.frames.n}`;
}

// ---- start ----
setupUpload();
$("#inbox-refresh").addEventListener("click", refreshInbox);
$("#inbox-run").addEventListener("click", runInbox);
refreshInbox().catch(err => message(err.message, true));
refreshJobs();
setInterval(refreshJobs, 1000);
