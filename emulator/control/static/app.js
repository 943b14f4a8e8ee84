// The emulator's dashboard. Rule of this file: every value that came from a client (prompts, headers, bodies,
// URLs, keys) reaches the page as a text node or an attribute value, never as markup (no HTML parsing anywhere).
// Every URL is relative to the page, so the page works under any prefix, over TLS and behind a proxy.
"use strict";

const API = new URL("../", document.baseURI); // the control plane: /_emulator/
const UI_API = new URL("api/", document.baseURI); // the dashboard's own JSON: /_emulator/ui/api/
const PAGES = ["requests", "jobs", "faults", "start"];
const KEEP_ENTRIES = 2000;
const POLL_MS = { requests: 1000, jobs: 1500, faults: 2000, start: 0 };

const state = {
  token: sessionStorage.getItem("seedream-emulator-token"),
  page: "requests",
  entries: new Map(), // seq -> journal entry
  lastSeq: 0,
  selectedEntry: null,
  jobs: [],
  selectedJob: null,
  start: null,
  timer: null,
};

// ---- helpers ---------------------------------------------------------------------------------------------------

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child)); // a string becomes a text node
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function svg(tag, attributes, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
}

class HttpError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

async function call(base, path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(new URL(path, base), {
    method: options.method || "GET",
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
    cache: "no-store",
    credentials: "omit",
  });
  if (response.status === 401) showTokenForm();
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw new HttpError(response.status, body && body.detail !== undefined ? body.detail : text);
  return body;
}

const control = (path, options) => call(API, path, options);
const dashboard = (path, options) => call(UI_API, path, options);

function setStatus(text, failing = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("failing", failing);
}

function clockTime(at) {
  if (typeof at !== "number") return "";
  // A real clock gives Unix seconds; a test's manual clock starts near zero.
  if (at > 1e9) return new Date(at * 1000).toISOString().slice(11, 23);
  return `${at.toFixed(3)} s`;
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind}` }, text);
}

function verdict(entry) {
  if (entry.violations.length) return badge(`${entry.violations.length} violation${entry.violations.length > 1 ? "s" : ""}`, "bad");
  if (entry.warnings.length) return badge(`${entry.warnings.length} warning${entry.warnings.length > 1 ? "s" : ""}`, "warn");
  return badge("ok", "good");
}

function statusClass(status) {
  if (status === null || status === undefined) return "pending";
  if (status >= 500) return "bad";
  if (status >= 400) return "warn";
  return "good";
}

function fillSelect(select, values) {
  const chosen = select.value;
  const first = select.querySelector("option[value='']");
  clear(select);
  if (first) select.append(first);
  for (const value of values) select.append(el("option", { value }, value));
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
}

function keyValueTable(rows) {
  return el(
    "table",
    { class: "kv" },
    el("tbody", {}, rows.map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", {}, value)))),
  );
}

// ---- JSON with pointers ----------------------------------------------------------------------------------------

function pointerPart(key) {
  return String(key).replaceAll("~", "~0").replaceAll("/", "~1");
}

// Pretty-printed JSON as nested spans, each value marked with its JSON pointer so violations can be found.
function jsonNode(value, pointer, depth) {
  const node = el("span", { class: "jv", "data-pointer": pointer });
  const pad = "  ".repeat(depth + 1);
  if (Array.isArray(value)) {
    if (!value.length) return append(node, ["[]"]);
    node.append("[\n");
    value.forEach((item, index) => {
      append(node, [pad, jsonNode(item, `${pointer}/${index}`, depth + 1), index < value.length - 1 ? ",\n" : "\n"]);
    });
    return append(node, ["  ".repeat(depth), "]"]);
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return append(node, ["{}"]);
    node.append("{\n");
    keys.forEach((key, index) => {
      append(node, [
        pad,
        el("span", { class: "jk" }, JSON.stringify(key)),
        ": ",
        jsonNode(value[key], `${pointer}/${pointerPart(key)}`, depth + 1),
        index < keys.length - 1 ? ",\n" : "\n",
      ]);
    });
    return append(node, ["  ".repeat(depth), "}"]);
  }
  return append(node, [el("span", { class: `j-${value === null ? "null" : typeof value}` }, JSON.stringify(value))]);
}

// The node a violation's pointer names, or its nearest ancestor that exists (a missing member names its parent).
function nodeAt(root, pointer) {
  const nodes = new Map([...root.querySelectorAll("[data-pointer]")].map((node) => [node.dataset.pointer, node]));
  let path = pointer;
  while (true) {
    if (nodes.has(path)) return nodes.get(path);
    if (!path) return null;
    path = path.slice(0, path.lastIndexOf("/"));
  }
}

function bodyView(title, body, violations = []) {
  const section = el("section", { class: "body" }, el("h4", {}, title));
  if (!body) return append(section, [el("p", { class: "empty" }, "not kept (no body, or the journal let it go)")]);
  const facts = [`${body.size.toLocaleString()} bytes`, body.media_type || "no content type"];
  if (body.truncated) facts.push(body.sha256 ? `first part shown; sha256 ${body.sha256}` : "not shown");
  section.append(el("p", { class: "hint" }, facts.join(" · ")));
  if (body.headers && body.headers.length) {
    section.append(el("details", {}, el("summary", {}, `${body.headers.length} headers`), keyValueTable(body.headers)));
  }
  if (body.text === null || body.text === undefined) return section;
  let parsed;
  let isJson = false;
  if (body.media_type.includes("json") && !body.truncated) {
    try {
      parsed = JSON.parse(body.text);
      isJson = true;
    } catch (error) {
      isJson = false;
    }
  }
  const pre = el("pre", { class: "code json" });
  if (!isJson) {
    pre.textContent = body.text;
    return append(section, [pre]);
  }
  pre.append(jsonNode(parsed, "", 0));
  for (const violation of violations) {
    const node = nodeAt(pre, violation.path);
    if (!node) continue;
    node.classList.add("violated");
    node.title = `${violation.path || "(the body)"}: ${violation.fact || violation.message}`;
    violation.node = node;
  }
  return append(section, [pre]);
}

// ---- Requests --------------------------------------------------------------------------------------------------

const filters = () => ({
  surface: document.getElementById("f-surface").value,
  route: document.getElementById("f-route").value.trim(),
  status: document.getElementById("f-status").value.trim(),
  key: document.getElementById("f-key").value.trim(),
  broken: document.getElementById("f-broken").checked,
});

function shown(entry, wanted) {
  if (wanted.surface && entry.surface !== wanted.surface) return false;
  if (wanted.route && !`${entry.route} ${entry.path}`.includes(wanted.route)) return false;
  if (wanted.status && String(entry.status) !== wanted.status) return false;
  if (wanted.key && !(entry.api_key || "").startsWith(wanted.key.slice(0, 4))) return false;
  if (wanted.broken && entry.valid && !entry.warnings.length) return false;
  return true;
}

async function pollJournal() {
  // Re-read from the oldest entry still in flight, so its status and verdict arrive when it finishes.
  // (WebSocket frames have no duration; an HTTP request has one once answered.)
  const open = [...state.entries.values()]
    .filter((entry) => entry.transport === "http" && entry.duration_ms === null && entry.seq > state.lastSeq - 500)
    .map((entry) => entry.seq);
  const after = open.length ? Math.min(...open) - 1 : state.lastSeq;
  const { entries } = await control(`journal?after=${after}&limit=1000`);
  if (!entries.length && state.lastSeq) {
    // Nothing new: was the emulator reset meanwhile (sequence numbers start again)?
    const latest = (await control("journal?limit=1")).entries;
    if (!latest.length || latest[latest.length - 1].seq < state.lastSeq) forgetJournal();
  }
  for (const entry of entries) {
    state.entries.set(entry.seq, entry);
    state.lastSeq = Math.max(state.lastSeq, entry.seq);
  }
  while (state.entries.size > KEEP_ENTRIES) state.entries.delete(state.entries.keys().next().value);
  renderJournal();
}

function forgetJournal() {
  state.entries.clear();
  state.lastSeq = 0;
}

function renderJournal() {
  const wanted = filters();
  const entries = [...state.entries.values()];
  fillSelect(document.getElementById("f-surface"), [...new Set(entries.map((entry) => entry.surface))].sort());
  const routes = clear(document.getElementById("routes"));
  for (const route of new Set(entries.map((entry) => entry.route).filter(Boolean))) routes.append(el("option", { value: route }));
  const rows = entries.filter((entry) => shown(entry, wanted)).reverse();
  const body = clear(document.querySelector("#journal tbody"));
  for (const entry of rows) {
    body.append(
      el(
        "tr",
        {
          class: `${entry.valid ? "" : "broken"} ${state.selectedEntry === entry.seq ? "selected" : ""}`,
          "data-seq": entry.seq,
          onclick: () => showEntry(entry.seq),
        },
        el("td", {}, entry.seq),
        el("td", {}, clockTime(entry.at)),
        el("td", {}, entry.surface),
        el("td", {}, entry.method),
        el("td", { class: "path", title: entry.path }, entry.route || entry.path),
        el("td", {}, badge(entry.status ?? "…", statusClass(entry.status))),
        el("td", {}, entry.api_key || ""),
        el("td", { class: "number" }, entry.duration_ms === null ? "" : entry.duration_ms.toFixed(1)),
        el("td", {}, verdict(entry)),
      ),
    );
  }
  document.getElementById("journal-empty").hidden = rows.length > 0;
  document.getElementById("journal-count").textContent = `${rows.length} of ${entries.length} requests`;
}

async function showEntry(seq) {
  state.selectedEntry = seq;
  renderJournal();
  const panel = document.getElementById("entry-detail");
  let entry;
  try {
    entry = await control(`journal/${seq}`);
  } catch (error) {
    clear(panel).append(el("p", { class: "message" }, `Could not read request ${seq}: ${error.message}`));
    return;
  }
  const violations = entry.violations.map((violation) => ({ ...violation }));
  const request = bodyView("Request", entry.request_body, violations);
  clear(panel).append(
    el("h3", {}, `${entry.method} ${entry.path}`),
    keyValueTable([
      ["surface", entry.surface],
      ["route", entry.route || "—"],
      ["status", badge(entry.status ?? "in flight", statusClass(entry.status))],
      ["API key", entry.api_key || "—"],
      ["duration", entry.duration_ms === null ? "—" : `${entry.duration_ms} ms`],
      ["jobs", entry.ids.length ? entry.ids.map((id) => el("a", { href: "#jobs", class: "job-link", onclick: () => openJob(id) }, id, " ")) : "—"],
    ]),
  );
  if (violations.length) {
    panel.append(
      el("h4", { class: "bad" }, "Broke the contract"),
      el(
        "ol",
        { class: "violations" },
        violations.map((violation) =>
          el(
            "li",
            { class: "violation", onclick: () => violation.node && violation.node.scrollIntoView({ block: "center" }) },
            el("code", { class: "pointer" }, violation.path || "(the body)"),
            " ",
            // The provider's rule in the contract's words where it has them, then what the check found.
            el("span", { class: "fact" }, violation.fact || violation.message),
            " ",
            el("span", { class: "keyword" }, violation.fact ? `(${violation.message}; ${violation.keyword})` : `(${violation.keyword})`),
          ),
        ),
      ),
    );
  }
  for (const [title, texts, kind] of [["Warnings (counted against the client)", entry.warnings, "warn"], ["Notes", entry.notes, ""]]) {
    if (texts.length) panel.append(el("h4", { class: kind }, title), el("ul", {}, texts.map((text) => el("li", {}, text))));
  }
  panel.append(request, bodyView("Reply", entry.reply_body));
}

// ---- Jobs ------------------------------------------------------------------------------------------------------

const STATE_COLOURS = { queued: "#8a94a6", running: "#3b82f6", succeeded: "#16a34a", failed: "#dc2626", canceled: "#a16207" };

function timelineChart(job, width = 220, height = 18) {
  const events = job.timeline || [];
  const states = events.filter((event) => event.kind === "state");
  const outputs = events.filter((event) => event.kind === "output");
  const start = job.created_at;
  const end = Math.max(start, job.finished_at ?? 0, ...events.map((event) => event.at));
  // With instant timing every event has the same time: then each state gets an equal share, in order.
  const timed = end - start > 1e-3;
  const slot = (width - 4) / Math.max(1, states.length);
  const x = (at) => ((at - start) / (end - start)) * (width - 4) + 2;
  const chart = svg("svg", { width, height, class: "timeline", role: "img" });
  states.forEach((event, index) => {
    const from = timed ? x(event.at) : 2 + index * slot;
    const to = timed ? x(index + 1 < states.length ? states[index + 1].at : end) : from + slot;
    const bar = svg("rect", { x: from, y: 3, width: Math.max(2, to - from), height: height - 6, fill: STATE_COLOURS[event.state] || "#999" });
    bar.append(svg("title", {}, `${event.state} at ${clockTime(event.at)}`));
    chart.append(bar);
  });
  const running = states.findIndex((event) => event.state === "running");
  outputs.forEach((event, index) => {
    const cx = timed ? x(event.at) : 2 + (Math.max(0, running) + (index + 1) / (outputs.length + 1)) * slot;
    const dot = svg("circle", { cx, cy: height / 2, r: 3, fill: "#fff", stroke: "#111" });
    dot.append(svg("title", {}, `image ${event.index} at ${clockTime(event.at)}`));
    chart.append(dot);
  });
  return chart;
}

async function pollJobs() {
  const { jobs } = await control("jobs?limit=500");
  state.jobs = jobs;
  fillSelect(document.getElementById("j-surface"), [...new Set(jobs.map((job) => job.surface))].sort());
  const surface = document.getElementById("j-surface").value;
  const wantedState = document.getElementById("j-state").value;
  const rows = jobs.filter((job) => (!surface || job.surface === surface) && (!wantedState || job.state === wantedState)).reverse();
  const body = clear(document.querySelector("#jobs tbody"));
  for (const job of rows) {
    const simple = { ...job, timeline: [{ kind: "state", state: "queued", at: job.created_at }] };
    if (job.started_at !== null) simple.timeline.push({ kind: "state", state: "running", at: job.started_at });
    if (job.finished_at !== null) simple.timeline.push({ kind: "state", state: job.state, at: job.finished_at });
    body.append(
      el(
        "tr",
        { class: state.selectedJob === job.id ? "selected" : "", "data-job": job.id, onclick: () => showJob(job.id) },
        el("td", { class: "id", title: job.id }, job.id),
        el("td", {}, job.surface),
        el("td", {}, job.model || ""),
        el("td", {}, badge(job.stalled ? `${job.state} (stalled)` : job.state, `state-${job.state}`)),
        el("td", { class: "number" }, `${job.outputs_ready}/${job.output_count}`),
        el("td", {}, timelineChart(simple, 120, 12)),
      ),
    );
  }
  document.getElementById("jobs-empty").hidden = rows.length > 0;
  document.getElementById("jobs-count").textContent = `${rows.length} of ${jobs.length} jobs`;
  const selected = jobs.find((job) => job.id === state.selectedJob);
  if (selected && (!selected.terminal || state.jobDetailState !== selected.state)) await showJob(selected.id, false);
}

function openJob(id) {
  state.selectedJob = id;
  location.hash = "#jobs";
}

async function jobAction(id, action, json) {
  try {
    await control(`jobs/${encodeURIComponent(id)}/${action}`, { method: "POST", json: json ?? {} });
    state.jobMessage = `${action}: done`;
  } catch (error) {
    state.jobMessage = `${action} failed: ${error.message}`;
  }
  await showJob(id, false);
  await pollJobs();
}

async function showJob(id, scroll = true) {
  if (state.selectedJob !== id) state.jobMessage = "";
  state.selectedJob = id;
  const panel = document.getElementById("job-detail");
  let job;
  try {
    job = await dashboard(`jobs/${encodeURIComponent(id)}`);
  } catch (error) {
    clear(panel).append(el("p", { class: "message" }, `Could not read job ${id}: ${error.message}`));
    return;
  }
  state.jobDetailState = job.state;
  for (const row of document.querySelectorAll("#jobs tbody tr")) row.classList.toggle("selected", row.dataset.job === id);
  const failure = el("select", { id: "job-failure", "aria-label": "failure kind" }, ["content_policy", "timeout", "provider_error"].map((kind) => el("option", { value: kind }, kind)));
  clear(panel).append(
    el("h3", { class: "id" }, job.id),
    keyValueTable([
      ["surface", job.surface],
      ["model", job.model || "—"],
      ["state", badge(job.stalled ? `${job.state} (stalled)` : job.state, `state-${job.state}`)],
      ["images", `${job.outputs_ready} of ${job.output_count}`],
      ["failure", job.failure ? `${job.failure.kind}${job.failure.message ? `: ${job.failure.message}` : ""}` : "—"],
    ]),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", disabled: job.terminal, onclick: () => jobAction(id, "advance") }, "Advance"),
      failure,
      el("button", { type: "button", class: "danger", disabled: job.terminal, onclick: () => jobAction(id, "fail", { failure: failure.value }) }, "Fail"),
      el("button", { type: "button", class: "secondary", disabled: job.terminal, onclick: () => jobAction(id, "cancel") }, "Cancel"),
      el("span", { id: "job-message", class: "message", role: "status" }, state.jobMessage),
    ),
    el("h4", {}, "Timeline"),
    timelineChart(job, 420, 24),
    el("ol", { class: "events" }, job.timeline.map((event) => el("li", {}, `${clockTime(event.at)} · ${event.kind === "output" ? `image ${event.index} ready` : event.state}`))),
  );
  if (job.images.length) {
    panel.append(
      el("h4", {}, "Images"),
      el(
        "div",
        { class: "thumbs" },
        job.images.map((image) =>
          el(
            "figure",
            {},
            el("a", { href: image.url, target: "_blank", rel: "noopener noreferrer" }, el("img", { src: image.url, alt: `image ${image.index}`, loading: "lazy" })),
            el("figcaption", {}, keyValueTable(Object.entries(image.metadata).map(([name, value]) => [name, String(value)]))),
          ),
        ),
      ),
    );
  }
  panel.append(el("h4", {}, `Deliveries (${job.deliveries.length})`));
  for (const delivery of job.deliveries) {
    panel.append(
      el(
        "div",
        { class: "delivery" },
        el("p", {}, badge(delivery.state, delivery.state === "delivered" ? "good" : delivery.state === "pending" ? "pending" : "bad"), " ", `${delivery.method} `, el("code", {}, delivery.url), ` · ${delivery.event} · ${delivery.body_bytes} bytes`, delivery.faults.length ? ` · faults: ${delivery.faults.join(", ")}` : ""),
        el(
          "table",
          { class: "rows compact" },
          el("thead", {}, el("tr", {}, el("th", {}, "attempt"), el("th", {}, "at"), el("th", {}, "status"), el("th", {}, "latency"), el("th", {}, "error / response"))),
          el("tbody", {}, delivery.attempts.map((attempt) => el("tr", {}, el("td", {}, attempt.number), el("td", {}, clockTime(attempt.at)), el("td", {}, attempt.status ?? "—"), el("td", {}, attempt.duration_ms === null ? "—" : `${attempt.duration_ms.toFixed(1)} ms`), el("td", {}, attempt.error || attempt.response || "")))),
        ),
        el(
          "details",
          {},
          el("summary", {}, "headers and signatures"),
          keyValueTable([
            ...Object.entries(delivery.headers),
            ...delivery.attempts.flatMap((attempt) => Object.entries(attempt.signed || {}).map(([name, value]) => [`${name} (attempt ${attempt.number})`, value])),
          ]),
        ),
      ),
    );
  }
  if (scroll) panel.scrollTop = 0;
}

// ---- Faults and limits -----------------------------------------------------------------------------------------

// What each action reads (docs/control-api.md); a rule lists every field, most of them defaults it ignores.
const ACTION_FIELDS = {
  latency: ["seconds", "seconds_max"],
  error: ["status", "code", "message", "retry_after"],
  ambiguous: ["status"],
  disconnect: ["disconnect"],
  fail: ["failure", "message"],
  stall: ["state"],
  fewer_images: ["images"],
  webhook: ["webhook", "seconds"],
};
const FIRING_FIELDS = ["times", "nth", "probability"];

function faultExamples(surface) {
  return [
    ["429 with Retry-After, twice", { action: "error", surface, status: 429, retry_after: 2, times: 2 }],
    ["503 on the next request", { action: "error", surface, status: 503, times: 1 }],
    ["content policy failure", { action: "fail", surface, failure: "content_policy", times: 1 }],
    ["slow replies (1-3 s), one in five", { action: "latency", surface, seconds: 1, seconds_max: 3, probability: 0.2 }],
    ["jobs stall while running", { action: "stall", surface, state: "running" }],
    ["fewer images than asked", { action: "fewer_images", surface, images: 1 }],
    ["every callback twice", { action: "webhook", surface, webhook: "duplicate" }],
    ["connection reset", { action: "disconnect", surface, disconnect: "reset", times: 1 }],
  ];
}

function pickExample() {
  const surface = document.getElementById("fault-surface").value;
  const examples = faultExamples(surface);
  const chosen = examples[Number(document.getElementById("fault-example").value) || 0];
  document.getElementById("fault-json").value = JSON.stringify(chosen[1], null, 2);
}

async function loadSurfaces() {
  if (!state.start) state.start = await dashboard("start");
  return state.start.surfaces.map((surface) => surface.name);
}

async function setUpFaultForm() {
  const surfaces = await loadSurfaces();
  const surfaceSelect = document.getElementById("fault-surface");
  if (surfaceSelect.options.length) return;
  fillSelect(surfaceSelect, surfaces);
  const exampleSelect = document.getElementById("fault-example");
  faultExamples("").forEach(([label], index) => exampleSelect.append(el("option", { value: index }, label)));
  pickExample();
}

async function pollFaults() {
  await setUpFaultForm();
  const [{ faults }, limits, policy] = await Promise.all([control("faults"), control("limits"), control("policy")]);
  const body = clear(document.querySelector("#faults tbody"));
  for (const rule of faults) {
    const names = [...(ACTION_FIELDS[rule.action] || []), ...FIRING_FIELDS];
    const settings = Object.fromEntries(names.filter((name) => rule[name] !== null && rule[name] !== undefined).map((name) => [name, rule[name]]));
    body.append(
      el(
        "tr",
        { "data-rule": rule.id },
        el("td", {}, rule.id),
        el("td", {}, rule.action),
        el("td", {}, el("code", {}, JSON.stringify(rule.match))),
        el("td", {}, el("code", {}, JSON.stringify(settings))),
        el("td", { class: "number" }, rule.matched),
        el("td", { class: "number" }, rule.fired),
        el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => removeRule(rule.id) }, "Remove")),
      ),
    );
  }
  document.getElementById("faults-empty").hidden = faults.length > 0;
  const limitRows = clear(document.querySelector("#limits tbody"));
  for (const surface of await loadSurfaces()) {
    const limit = limits[surface] || {};
    const rpm = el("input", { inputmode: "numeric", size: 6, value: limit.requests_per_minute ?? "", "aria-label": `${surface} requests per minute` });
    const concurrency = el("input", { inputmode: "numeric", size: 4, value: limit.concurrency ?? "", "aria-label": `${surface} concurrency` });
    const save = async () => {
      const number = (input) => (input.value.trim() ? Number(input.value.trim()) : null);
      try {
        await control(`limits/${surface}`, { method: "PUT", json: { requests_per_minute: number(rpm), concurrency: number(concurrency) } });
        setMessage(`limits of ${surface} saved`);
      } catch (error) {
        setMessage(`limits of ${surface}: ${error.message}`, true);
      }
    };
    limitRows.append(el("tr", {}, el("td", {}, surface), el("td", {}, rpm), el("td", {}, concurrency), el("td", {}, el("button", { type: "button", class: "secondary", onclick: save }, "Save"))));
  }
  document.getElementById("policy").textContent = JSON.stringify(policy, null, 2);
}

function setMessage(text, failing = false) {
  const message = document.getElementById("fault-message");
  message.textContent = text;
  message.classList.toggle("failing", failing);
}

async function addRule(event) {
  event.preventDefault();
  let rule;
  try {
    rule = JSON.parse(document.getElementById("fault-json").value);
  } catch (error) {
    setMessage(`not JSON: ${error.message}`, true);
    return;
  }
  if (rule === null || typeof rule !== "object" || Array.isArray(rule)) {
    setMessage("a rule is a JSON object", true);
    return;
  }
  try {
    const created = await control("faults", { method: "POST", json: rule });
    setMessage(`added ${created.id}`);
  } catch (error) {
    setMessage(`refused: ${error.message}`, true);
  }
  await pollFaults();
}

async function removeRule(id) {
  try {
    await control(`faults/${encodeURIComponent(id)}`, { method: "DELETE" });
    setMessage(`removed ${id}`);
  } catch (error) {
    setMessage(`could not remove ${id}: ${error.message}`, true);
  }
  await pollFaults();
}

async function clearRules() {
  const { deleted } = await control("faults", { method: "DELETE" });
  setMessage(`removed ${deleted} rule${deleted === 1 ? "" : "s"}`);
  await pollFaults();
}

let resetArmed = null;

async function resetEmulator(event) {
  const button = event.currentTarget;
  if (!resetArmed) {
    // A second click within five seconds confirms: a reset forgets every job, file and journal entry.
    button.textContent = "Click again to forget everything";
    resetArmed = setTimeout(() => {
      resetArmed = null;
      button.textContent = "Reset the emulator";
    }, 5000);
    return;
  }
  clearTimeout(resetArmed);
  resetArmed = null;
  button.textContent = "Reset the emulator";
  await control("reset", { method: "POST", json: {} });
  forgetJournal();
  setMessage("the emulator was reset");
  await pollFaults();
}

// ---- Start here ------------------------------------------------------------------------------------------------

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Select and copy by hand";
  }
  setTimeout(() => (button.textContent = "Copy"), 2000);
}

async function renderStart() {
  const start = state.start || (state.start = await dashboard("start"));
  const intro = clear(document.getElementById("start-intro"));
  append(intro, [
    "This emulator answers at ",
    el("code", {}, start.base),
    ". ",
    start.any_key ? "Any non-empty API key is accepted. " : "Only the configured API keys are accepted. ",
    start.tls ? "It serves HTTPS with a local CA: point clients at it with SSL_CERT_FILE (the path printed at start). " : "",
    "Control plane: ",
    el("code", {}, start.control),
    " (docs/control-api.md).",
  ]);
  const list = clear(document.getElementById("start-surfaces"));
  for (const surface of start.surfaces) {
    list.append(
      el(
        "article",
        { class: "surface", "data-surface": surface.name },
        el("h2", {}, surface.title),
        keyValueTable(surface.endpoints.map(([label, url]) => [label, el("code", {}, url)])),
        surface.snippets.map((snippet) => {
          const button = el("button", { type: "button", class: "secondary copy", onclick: () => copy(snippet.code, button) }, "Copy");
          return el("div", { class: "snippet" }, el("h4", {}, snippet.label, " ", button), el("pre", { class: `code ${snippet.language}` }, snippet.code));
        }),
      ),
    );
  }
}

// ---- pages, polling, token -------------------------------------------------------------------------------------

const POLLERS = { requests: pollJournal, jobs: pollJobs, faults: pollFaults, start: renderStart };

function showTokenForm() {
  document.getElementById("token-form").hidden = false;
}

function readHash() {
  const hash = location.hash.replace(/^#/, "");
  if (hash.startsWith("token=")) {
    // Taken from the URL once, kept for this tab, and wiped from the address bar and history.
    state.token = decodeURIComponent(hash.slice("token=".length));
    sessionStorage.setItem("seedream-emulator-token", state.token);
    history.replaceState(null, "", "#requests");
    return "requests";
  }
  return PAGES.includes(hash) ? hash : "requests";
}

async function tick() {
  clearTimeout(state.timer);
  const page = state.page;
  try {
    await POLLERS[page]();
    setStatus(`live · ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    setStatus(error.status === 401 ? "needs the control token" : `cannot reach the control plane: ${error.message}`, true);
  }
  if (POLL_MS[page] && page === state.page) state.timer = setTimeout(tick, POLL_MS[page]);
}

function showPage() {
  state.page = readHash();
  for (const page of PAGES) document.getElementById(`page-${page}`).hidden = page !== state.page;
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("current", link.dataset.page === state.page);
  tick();
}

function start() {
  for (const id of ["f-surface", "f-route", "f-status", "f-key", "f-broken"]) {
    document.getElementById(id).addEventListener("input", renderJournal);
  }
  for (const id of ["j-surface", "j-state"]) document.getElementById(id).addEventListener("input", pollJobs);
  document.getElementById("fault-surface").addEventListener("input", pickExample);
  document.getElementById("fault-example").addEventListener("input", pickExample);
  document.getElementById("fault-form").addEventListener("submit", addRule);
  document.getElementById("faults-clear").addEventListener("click", clearRules);
  document.getElementById("emulator-reset").addEventListener("click", resetEmulator);
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = document.getElementById("token-input").value;
    sessionStorage.setItem("seedream-emulator-token", state.token);
    document.getElementById("token-form").hidden = true;
    tick();
  });
  window.addEventListener("hashchange", showPage);
  showPage();
}

start();
