// The live page of `tenor serve`: plain JavaScript, no framework, nothing fetched from elsewhere.
// It polls /api/revision, reloads /api/state when the files change, and keeps the user's
// selections (query, conditioning set, scenario, constants, plotted variables) across reloads.
"use strict";

const S = {
  client: Math.random().toString(36).slice(2) + Date.now().toString(36),
  revision: -1,
  state: null,
  query: null,
  given: [],
  scenario: "base",
  overrides: {},
  plot: null,
  baseRun: null,
  seq: 0,
  inflight: false,
  pending: false,
  changedAt: 0,
  loopSeq: 0,
  loopTimer: null,
};

const MAX_POINTS = 800; // a plot 640 pixels wide needs no more rows than this
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (x) => (x === null || x === undefined ? "–" : Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : (+x.toPrecision(4)).toString());

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { status: r.status, data };
}

function errorText(data) {
  const e = (data && data.error) || {};
  return (e.message || "request failed") + (e.hint ? " — " + e.hint : "");
}

// --- live reload ---------------------------------------------------------------------------

async function poll() {
  try {
    const r = await fetch("/api/revision", { cache: "no-store" });
    const d = await r.json();
    $("live").textContent = "live";
    if (d.revision !== S.revision) await loadState();
  } catch (e) {
    $("live").textContent = "server not reachable";
  }
  setTimeout(poll, 150);
}

async function loadState() {
  const r = await fetch("/api/state", { cache: "no-store" });
  const st = await r.json();
  S.state = st;
  S.revision = st.revision;
  render(st);
}

function render(st) {
  document.body.dataset.revision = st.revision;
  $("revision").textContent = st.revision;
  $("kind").textContent = st.kind + ": " + Object.values(st.files || {}).join(", ");
  const broken = st.errors.length > 0;
  $("errors").hidden = !broken;
  $("content").hidden = broken;
  document.body.classList.toggle("broken", broken);
  $("error-list").innerHTML = st.errors.map((e) => {
    const where = e.file ? esc(e.file) + (e.line ? ":" + e.line + (e.column ? ":" + e.column : "") : "") : "";
    return `<li class="error"><code class="where">${where}</code> ${e.key ? "<b>" + esc(e.key) + "</b>: " : ""}${esc(e.message)}` +
      (e.hint ? `<div class="hint">hint: ${esc(e.hint)}</div>` : "") + "</li>";
  }).join("");
  if (broken) return;
  const title = (st.causal && st.causal.title) || (st.model && st.model.name) || "tenor";
  $("title").textContent = title;
  document.title = title + " · tenor serve";
  $("causal").hidden = !st.causal;
  $("model").hidden = !st.model;
  if (st.causal) renderCausal(st.causal);
  if (st.model) renderModel(st.model);
}

// --- the causal spec -----------------------------------------------------------------------

function renderCausal(c) {
  const names = c.queries.map((q) => q.name);
  if (!names.includes(S.query)) S.query = names[0] || null;
  $("query").innerHTML = c.queries.map((q) =>
    `<option value="${esc(q.name)}" ${q.name === S.query ? "selected" : ""}>${esc(q.name)}: ${esc(q.treatment.join(", "))} → ${esc(q.outcome.join(", "))}</option>`).join("");
  const nodes = new Set(c.nodes.map((n) => n.name));
  S.given = S.given.filter((g) => nodes.has(g));
  $("claims").tBodies[0].innerHTML = c.check.claims.map((k) => {
    const cls = k.holds === true ? "holds" : k.holds === false ? "fails" : "";
    const word = k.holds === true ? "holds" : k.holds === false ? "fails" : "undecided";
    return `<tr><td>${esc(k.says || k.statement)}</td><td class="${cls}">${word}</td><td>${esc(k.statement)}: ${esc(k.detail)}</td></tr>`;
  }).join("");
  if (S.query) refreshPaths();
  else showDag(c.dag_svg);
}

function showDag(svg) {
  const box = $("dag");
  box.innerHTML = svg;
  box.querySelectorAll("g.node").forEach((g) => {
    const name = g.querySelector("title")?.textContent;
    if (!name) return;
    g.dataset.node = name;
    g.classList.toggle("given", S.given.includes(name));
    g.addEventListener("click", () => toggleGiven(name));
  });
}

function toggleGiven(name) {
  S.given = S.given.includes(name) ? S.given.filter((g) => g !== name) : [...S.given, name];
  refreshPaths();
}

function showGiven() {
  $("given").innerHTML = S.given.map((g) => `<span class="chip">${esc(g)}</span>`).join("") || '<span class="muted">nothing</span>';
}

async function refreshPaths() {
  showGiven();
  const { status, data } = await post("/api/paths", { query: S.query, given: S.given });
  if (status !== 200) {
    $("paths-summary").textContent = errorText(data);
    if (status === 400 && S.given.length) { S.given.pop(); showGiven(); }
    return;
  }
  showDag(data.dag_svg);
  const paths = data.paths.paths;
  $("paths-summary").textContent = `${data.open} of ${paths.length} open` + (data.paths.truncated ? " (list cut short)" : "");
  $("adjusts").textContent = data.adjusts
    ? "the conditioning set is a valid adjustment set for this effect"
    : "the conditioning set is not a valid adjustment set for this effect";
  $("adjusts").className = data.adjusts ? "holds" : "fails";
  $("paths").innerHTML = paths.map((p) =>
    `<li class="${p.open ? "open" : "blocked"}"><span class="tag">${p.open ? "open" : "blocked"}</span> <span class="kind">${esc(p.kind)}</span> ${esc(p.path)}` +
    (p.blocked_by.length ? ` <span class="muted">blocked by ${esc(p.blocked_by.join(", "))}</span>` : "") + "</li>").join("");
  const id = data.identification;
  const sets = (xs) => (xs && xs.length ? xs.map((s) => "{" + s.join(", ") + "}").join("; ") : "none");
  $("identification").innerHTML = `<table>
    <tr><th>query</th><td>${esc(id.query)}</td></tr>
    <tr><th>identifiable</th><td class="${id.identifiable ? "holds" : "fails"}">${id.identifiable ? "yes" : "no"}${id.by ? " (" + esc(id.by) + ")" : ""}</td></tr>
    <tr><th>minimal adjustment sets</th><td>${esc(sets(id.minimal_adjustment_sets))}</td></tr>
    <tr><th>front-door sets</th><td>${esc(sets(id.frontdoor_sets))}</td></tr>
    <tr><th>instruments</th><td>${esc((id.instruments || []).join(", ") || "none")}</td></tr>
    <tr><th>estimand</th><td><code>${esc(id.estimand || "")}</code></td></tr>
    ${id.reason ? `<tr><th>reason</th><td>${esc(id.reason)}</td></tr>` : ""}</table>`;
}

// --- the model -----------------------------------------------------------------------------

function scenarioOf(m) {
  return m.scenarios.find((s) => s.name === S.scenario) || m.scenarios[0];
}

function valueOf(m, c) {
  if (c.name in S.overrides) return S.overrides[c.name];
  const sc = scenarioOf(m);
  return c.name in sc.constants ? sc.constants[c.name] : c.value;
}

function renderModel(m) {
  $("model-name").textContent = m.name ? "(" + m.name + ")" : "";
  if (!m.scenarios.some((s) => s.name === S.scenario)) S.scenario = "base";
  $("scenario").innerHTML = m.scenarios.map((s) => `<option ${s.name === S.scenario ? "selected" : ""}>${esc(s.name)}</option>`).join("");
  $("scenario-note").textContent = scenarioOf(m).description || "";
  const known = new Set(m.constants.map((c) => c.name));
  for (const k of Object.keys(S.overrides)) if (!known.has(k)) delete S.overrides[k];
  $("constants").innerHTML = m.constants.map((c, i) => {
    const v = valueOf(m, c);
    const lo = Math.min(c.min, v), hi = Math.max(c.max, v);
    return `<div class="constant${c.name in S.overrides ? " changed" : ""}" data-name="${esc(c.name)}" title="${esc((c.origin_kind ? c.origin_kind + ": " : "") + c.origin)}">
      <label for="c${i}">${esc(c.name)} <span class="muted">${esc(c.units || "")}</span></label>
      <input type="range" id="c${i}" min="${lo}" max="${hi}" step="${c.step}" value="${v}">
      <input type="number" step="any" value="${v}">
      <div class="origin">${c.origin_kind ? "<i>" + esc(c.origin_kind) + ":</i> " : ""}${esc(c.origin)}</div></div>`;
  }).join("");
  $("constants").querySelectorAll(".constant").forEach((row) => {
    const name = row.dataset.name;
    const [slider, box] = row.querySelectorAll("input");
    slider.addEventListener("input", () => { box.value = slider.value; setConstant(name, +slider.value, row); });
    box.addEventListener("change", () => { if (box.value !== "" && isFinite(+box.value)) { slider.value = box.value; setConstant(name, +box.value, row); } });
  });
  const bases = [...new Set(m.variables.map((v) => v.base))];
  if (!S.plot) S.plot = m.plot.slice();
  S.plot = S.plot.filter((v) => bases.includes(v));
  if (!S.plot.length) S.plot = m.plot.slice();
  $("variables").innerHTML = bases.map((b) => `<option ${S.plot.includes(b) ? "selected" : ""}>${esc(b)}</option>`).join("");
  $("stockflow").innerHTML = m.stockflow_svg;
  $("cld").innerHTML = m.cld_svg;
  refreshRuns();
}

function setConstant(name, value, row) {
  S.overrides[name] = value;
  row.classList.add("changed");
  requestRun();
  scheduleLoops();
}

async function refreshRuns() {
  S.baseRun = null;
  const body = { constants: {}, scenario: S.scenario, variables: S.plot, max_points: MAX_POINTS };
  const { status, data } = await post("/api/simulate", body);
  if (status === 200) S.baseRun = data;
  if (status === 200 && !Object.keys(S.overrides).length && !S.inflight) {
    ++S.seq;
    drawPlot(data);
    $("run-server").textContent = Math.round(1000 * data.seconds);
  } else {
    requestRun();
  }
  scheduleLoops();
}

function requestRun() {
  S.changedAt = performance.now();
  if (S.inflight) { S.pending = true; return; }
  sendRun();
}

async function sendRun() {
  S.pending = false;
  S.inflight = true;
  const id = ++S.seq;
  const started = S.changedAt;
  try {
    const { status, data } = await post("/api/simulate", {
      client: S.client, request: id, constants: S.overrides, scenario: S.scenario, variables: S.plot, max_points: MAX_POINTS,
    });
    if (status === 200 && id === S.seq) {
      drawPlot(data);
      $("run-ms").textContent = Math.round(performance.now() - started);
      $("run-server").textContent = Math.round(1000 * data.seconds);
      $("plot").dataset.runs = (+($("plot").dataset.runs || 0) + 1).toString();
    } else if (status !== 200 && status !== 409) {
      $("plot").innerHTML = `<p class="error">${esc(errorText(data))}</p>`;
    }
  } finally {
    S.inflight = false;
    if (S.pending) sendRun();
  }
}

function scheduleLoops() {
  clearTimeout(S.loopTimer);
  S.loopTimer = setTimeout(loadLoops, 700);
}

async function loadLoops() {
  const id = ++S.loopSeq;
  $("loops-status").textContent = "(computing…)";
  const { status, data } = await post("/api/loops", { client: S.client, request: id, constants: S.overrides, scenario: S.scenario });
  if (id !== S.loopSeq || status === 409) return;
  if (status !== 200) { $("loops-status").textContent = "(" + errorText(data) + ")"; return; }
  $("loops-status").textContent = "";
  $("loops").tBodies[0].innerHTML = data.loops.map((lp) => {
    const g = lp.gain && typeof lp.gain === "object" ? Object.entries(lp.gain).map(([k, v]) => esc(k) + ": " + fmt(v)).join(", ") : fmt(lp.gain);
    return `<tr><td><b>${esc(lp.id)}</b> ${esc(lp.variables.join(" → "))}</td><td>${esc(lp.polarity)}</td><td class="num">${g}</td></tr>`;
  }).join("");
  $("dominance").innerHTML = data.periods.map((p) => `<li>${fmt(p.start)}–${fmt(p.end)}: ${esc(p.loops.join(", ") || "none")}</li>`).join("");
  $("cld").innerHTML = data.cld_svg;
}

// --- plots (drawn here from the engine's numbers) -------------------------------------------

const COLOURS = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#6e7781"];

function panel(base, run, baseRun, unit) {
  const names = Object.keys(run.series).filter((n) => n === base || n.startsWith(base + "["));
  const W = 640, H = 190, L = 60, R = 110, T = 22, B = 28;
  const t = run.time;
  let lo = Infinity, hi = -Infinity;
  const all = [run, baseRun].filter(Boolean);
  for (const r of all) for (const n of names) for (const v of r.series[n] || []) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  if (hi === lo) { hi += 1; lo -= 1; }
  const x = (v) => L + ((v - t[0]) / (t[t.length - 1] - t[0] || 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const line = (series, cls, colour, name) => {
    const pts = [];
    series.forEach((v, i) => { if (v !== null) pts.push(x(t[i]).toFixed(1) + "," + y(v).toFixed(1)); });
    return `<polyline class="${cls}" data-var="${esc(name)}" fill="none" stroke="${colour}" stroke-width="${cls === "current" ? 1.8 : 1.2}" points="${pts.join(" ")}"/>`;
  };
  let svg = `<svg viewBox="0 0 ${W} ${H}" class="panel" data-var="${esc(base)}"><text x="${L}" y="14" class="ptitle">${esc(base)}</text>`;
  for (let k = 0; k <= 4; k++) {
    const v = lo + (k / 4) * (hi - lo);
    svg += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 4}" y="${y(v) + 4}" class="tick" text-anchor="end">${fmt(v)}</text>`;
    const tv = t[0] + (k / 4) * (t[t.length - 1] - t[0]);
    svg += `<text x="${x(tv)}" y="${H - 10}" class="tick" text-anchor="middle">${fmt(tv)}</text>`;
  }
  svg += `<text x="${W - R + 18}" y="${H - 10}" class="tick" text-anchor="start">${esc(unit || "")}</text>`;
  names.forEach((n, i) => {
    if (baseRun && baseRun.series[n]) svg += line(baseRun.series[n], "base", "#afb8c1", n);
  });
  names.forEach((n, i) => {
    const colour = COLOURS[i % COLOURS.length];
    svg += line(run.series[n], "current", colour, n);
    if (names.length > 1) svg += `<text x="${W - R + 6}" y="${T + 12 * i + 8}" class="tick" fill="${colour}">${esc(n.slice(base.length))}</text>`;
  });
  return svg + "</svg>";
}

function drawPlot(run) {
  const m = S.state && S.state.model;
  const unit = m ? m.time.unit : "";
  $("plot").innerHTML = S.plot.map((b) => panel(b, run, S.baseRun, unit)).join("");
}

// --- wiring ----------------------------------------------------------------------------------

$("query").addEventListener("change", () => { S.query = $("query").value; refreshPaths(); });
$("clear-given").addEventListener("click", () => { S.given = []; refreshPaths(); });
$("scenario").addEventListener("change", () => {
  S.scenario = $("scenario").value;
  S.overrides = {};
  renderModel(S.state.model);
});
$("variables").addEventListener("change", () => {
  S.plot = [...$("variables").selectedOptions].map((o) => o.value);
  refreshRuns();
});
$("reset").addEventListener("click", () => { S.overrides = {}; renderModel(S.state.model); });
$("save").addEventListener("click", async () => {
  const name = $("save-name").value.trim();
  const { status, data } = await post("/api/scenario", {
    name, constants: S.overrides, scenario: S.scenario, file: $("save-file").value.trim() || null, overwrite: $("save-overwrite").checked,
  });
  $("save-result").textContent = status === 200 ? `wrote scenario ${data.name} to ${data.file}` : errorText(data);
});

poll();
