// Yurt Geo staff console: plain DOM, no dependencies, same-origin API calls only (see the CSP).
// Every value is written with textContent or attributes, never innerHTML, so data cannot inject markup.
"use strict";

const TYPES = ["embassy", "consulate_general", "consulate", "honorary_consulate", "permanent_mission",
  "diplomatic_mission"];
const STATUSES = ["open", "limited", "suspended", "closed"];
const PHONE_KINDS = ["main", "consular", "emergency", "fax"];
const NULLABLE = new Set(["status_note", "address", "email", "website", "hours", "hours_note", "districts_note",
  "note"]);
// [path, label, kind, options]
const FIELDS = [
  ["properties.name.en", "Name (English)", "text"],
  ["properties.name.kk", "Name (Kazakh)", "text"],
  ["properties.name.ru", "Name (Russian)", "text"],
  ["properties.type", "Type", "select", TYPES],
  ["properties.status", "Status", "select", STATUSES],
  ["properties.status_note", "Status note", "text"],
  ["properties.host_country", "Host country (ISO)", "text"],
  ["properties.city", "City", "text"],
  ["properties.address", "Address", "textarea"],
  ["properties.phones", "Phones", "phones"],
  ["properties.email", "E-mail", "text"],
  ["properties.website", "Website", "text"],
  ["properties.timezone", "Time zone", "text"],
  ["properties.hours", "Opening hours", "text"],
  ["properties.hours_note", "Hours note", "text"],
  ["properties.services", "Services (comma-separated)", "list"],
  ["properties.services_default", "Services are the default list", "checkbox"],
  ["properties.accredited_to", "Also accredited to", "list"],
  ["properties.districts", "Districts (ISO 3166-2)", "list"],
  ["properties.districts_note", "Districts note", "text"],
  ["properties.name_unsourced", "Unsourced names", "list"],
  ["geometry.coordinates.0", "Longitude", "number"],
  ["geometry.coordinates.1", "Latitude", "number"],
  ["properties.location_precision", "Location precision", "select", ["building", "city"]],
  ["properties.sources", "Sources (one a line)", "lines"],
  ["properties.checked_on", "Checked on", "date"],
  ["properties.note", "Note", "textarea"],
];

const state = { token: sessionStorage.getItem("yurt.token"), missions: [], id: null, etag: null, feature: null,
  conflict: null };
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

async function api(method, path, body, headers) {
  const init = { method, headers: { Authorization: "Bearer " + state.token, ...(headers || {}) } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  return { status: response.status, etag: response.headers.get("ETag"), data };
}

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}
function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  const target = keys.reduce((o, k) => (o[k] = o[k] ?? {}), obj);
  if (value === undefined) delete target[last]; else target[last] = value;
}

// -- sign in ------------------------------------------------------------------------------------------------
async function signIn() {
  state.token = $("token").value.trim() || state.token;
  const check = await api("GET", "/v1/audit?limit=1");
  if (check.status !== 200) {
    $("sign-in-error").textContent = check.data?.detail || "sign-in failed";
    sessionStorage.removeItem("yurt.token");
    return;
  }
  sessionStorage.setItem("yurt.token", state.token);
  $("sign-in").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  await Promise.all([loadMissions(), loadReports(), drawLand()]);
}

function signOut() {
  sessionStorage.removeItem("yurt.token");
  location.reload();
}

// -- list ---------------------------------------------------------------------------------------------------
async function loadMissions() {
  const r = await api("GET", "/v1/missions");
  state.missions = r.data.features;
  renderList();
}

function renderList() {
  const q = $("search").value.trim().toLowerCase();
  const list = $("missions");
  list.replaceChildren();
  for (const f of state.missions) {
    const p = f.properties;
    const text = `${p.city} · ${p.name.en}`;
    if (q && !(text + " " + p.id).toLowerCase().includes(q)) continue;
    list.append(h("li", { "data-id": p.id, class: p.id === state.id ? "selected" : null,
      onclick: () => openMission(p.id) }, text));
  }
}

// -- editor -------------------------------------------------------------------------------------------------
async function openMission(id) {
  const r = await api("GET", `/v1/missions/${encodeURIComponent(id)}`);
  if (r.status !== 200) { $("status").textContent = r.data?.detail; return; }
  state.id = id;
  load(r.data, r.etag);
  $("editor").hidden = false;
  renderList();
  await loadHistory();
}

function load(feature, etag) {
  state.feature = feature;
  state.etag = etag;
  state.conflict = null;
  $("conflict").hidden = true;
  $("editor-title").textContent = `${feature.properties.name.en} (${feature.properties.id})`;
  renderForm(feature);
  movePin();
}

function inputFor(path, kind, options, value) {
  const attrs = { id: "f-" + path, name: path, "data-path": path.replace(/\.(\d)$/, "[$1]") };
  if (kind === "select") {
    return h("select", attrs, ...options.map((o) => h("option", { value: o, selected: o === value }, o)));
  }
  if (kind === "checkbox") return h("input", { ...attrs, type: "checkbox", checked: Boolean(value) });
  if (kind === "textarea" || kind === "lines") {
    const el = h("textarea", { ...attrs, rows: kind === "lines" ? 3 : 2 });
    el.value = kind === "lines" ? (value || []).join("\n") : (value ?? "");
    return el;
  }
  const el = h("input", { ...attrs, type: "text", inputmode: kind === "number" ? "decimal" : null });
  el.value = kind === "list" ? (value || []).join(", ") : (value ?? "");
  if (kind === "number") el.addEventListener("input", movePin);
  return el;
}

function phoneRow(phone, i) {
  const base = `properties.phones[${i}]`;
  const number = h("input", { name: `${base}.number`, "data-path": `${base}.number`, "aria-label": "Phone number" });
  number.value = phone.number || "";
  const note = h("input", { name: `${base}.note`, "data-path": `${base}.note`, placeholder: "note",
    "aria-label": "Phone note" });
  note.value = phone.note || "";
  const kind = h("select", { name: `${base}.kind`, "data-path": `${base}.kind`, "aria-label": "Phone kind" },
    ...PHONE_KINDS.map((k) => h("option", { value: k, selected: k === phone.kind }, k)));
  const remove = h("button", { type: "button", onclick: (e) => { e.target.closest(".phone-row").remove(); } }, "×");
  return h("div", { class: "phone-row" }, number, kind, note, remove);
}

function renderForm(feature) {
  const form = $("form");
  form.replaceChildren();
  for (const [path, label, kind, options] of FIELDS) {
    const value = getPath(feature, path);
    if (kind === "phones") {
      const rows = h("div", { id: "phones", "data-path": "properties.phones" },
        ...(value || []).map(phoneRow));
      const add = h("button", { type: "button", onclick: () =>
        rows.append(phoneRow({ kind: "main" }, rows.querySelectorAll(".phone-row").length)) }, "Add phone");
      form.append(h("label", {}, label), h("div", {}, rows, add));
      continue;
    }
    form.append(h("label", { for: "f-" + path }, label), inputFor(path, kind, options, value));
  }
  form.append(h("button", { id: "save", type: "submit", class: "wide" }, "Save"));
}

function collect() {
  const feature = structuredClone(state.feature);
  for (const [path, , kind] of FIELDS) {
    if (kind === "phones") continue;
    const el = $("f-" + path);
    const key = path.split(".").pop();
    let value;
    if (kind === "checkbox") value = el.checked;
    else if (kind === "list") value = el.value.split(",").map((s) => s.trim()).filter(Boolean);
    else if (kind === "lines") value = el.value.split("\n").map((s) => s.trim()).filter(Boolean);
    else if (kind === "number") value = el.value.trim() === "" || isNaN(Number(el.value)) ? el.value : Number(el.value);
    else value = el.value.trim();
    if (value === "" && NULLABLE.has(key)) value = null;
    if (value === "" && key === "timezone") value = undefined; // derived from the point by the server
    setPath(feature, path, value);
  }
  feature.properties.phones = [...document.querySelectorAll("#phones .phone-row")].map((row, i) => {
    const [number, kind, note] = row.querySelectorAll("input, select");
    // Rows may have been removed: number them as the server will, so its errors find the right input.
    for (const el of [number, kind, note]) el.dataset.path = el.dataset.path.replace(/\[\d+\]/, `[${i}]`);
    const phone = { number: number.value.trim(), kind: kind.value };
    if (note.value.trim()) phone.note = note.value.trim();
    return phone;
  });
  return feature;
}

function clearErrors() {
  document.querySelectorAll(".field-error").forEach((e) => e.remove());
  document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
}

function parentPath(path) {
  return path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
}

function showErrors(errors) {
  const unplaced = [];
  for (const [path, messages] of Object.entries(errors || {})) {
    // The most specific element for the path: "properties.phones[1].number", else its parents.
    let el = path === "geometry.coordinates" ? $("f-geometry.coordinates.1") : null;
    for (let p = path; p && !el; p = parentPath(p) === p ? "" : parentPath(p)) {
      el = document.querySelector(`[data-path="${CSS.escape(p)}"]`);
    }
    if (!el) { unplaced.push(`${path}: ${messages.join("; ")}`); continue; }
    el.classList.add("invalid");
    el.after(h("div", { class: "field-error", "data-error-for": path, role: "alert" }, messages.join("; ")));
  }
  return unplaced;
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const mine = collect();
  $("status").textContent = "Saving…";
  const r = await api("PUT", `/v1/missions/${encodeURIComponent(state.id)}`, mine, { "If-Match": state.etag });
  if (r.status === 200) {
    state.feature = r.data;
    state.etag = r.etag;
    $("status").textContent = "Saved.";
    await Promise.all([loadMissions(), loadHistory()]);
  } else if (r.status === 422) {
    const unplaced = showErrors(r.data.errors);
    $("status").textContent = "Not saved: please fix the marked fields. " + unplaced.join(" ");
  } else if (r.status === 412) {
    $("status").textContent = "Not saved: this post changed while you were editing it.";
    await showConflict(mine, r.data.current, r.data.current_etag);
  } else {
    $("status").textContent = `Not saved: ${r.data?.detail || r.status}`;
  }
}

async function showConflict(mine, theirs, theirEtag) {
  state.conflict = { feature: theirs, etag: theirEtag };
  const rows = $("conflict-rows");
  rows.replaceChildren();
  for (const [path, label] of [...FIELDS.map((f) => [f[0], f[1]])]) {
    const a = JSON.stringify(getPath(theirs, path) ?? null);
    const b = JSON.stringify(getPath(mine, path) ?? null);
    if (a !== b) rows.append(h("tr", { "data-path": path }, h("td", {}, label), h("td", { class: "theirs" }, a),
      h("td", { class: "mine" }, b)));
  }
  const history = await api("GET", `/v1/missions/${encodeURIComponent(state.id)}/history?limit=1`);
  const last = history.data?.entries?.[0];
  $("conflict-who").textContent = last ? `Last saved by ${last.author} at ${last.at}.` : "";
  $("conflict").hidden = false;
}

// -- history, reports, map ------------------------------------------------------------------------------------
async function loadHistory() {
  const r = await api("GET", `/v1/missions/${encodeURIComponent(state.id)}/history?limit=20`);
  const list = $("history");
  list.replaceChildren();
  for (const e of r.data?.entries || []) {
    const before = e.before?.properties || {};
    const after = e.after?.properties || {};
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    list.append(h("li", {}, `${e.at} · ${e.author} · ${e.action}`,
      h("div", { class: "muted" }, changed.length ? "changed: " + changed.join(", ") : "")));
  }
}

async function loadReports() {
  const r = await api("GET", "/v1/reports?status=open&limit=50");
  const list = $("reports");
  list.replaceChildren();
  for (const rep of r.data?.reports || []) {
    const resolve = h("button", { type: "button", onclick: async (e) => {
      e.stopPropagation();
      await api("POST", `/v1/reports/${rep.id}/resolve`, { resolution: "fixed" });
      await loadReports();
    } }, "Resolved");
    list.append(h("li", { "data-report": rep.id, onclick: () => openMission(rep.mission_id) },
      `${rep.mission_id} · ${rep.category}: ${rep.text} `, resolve));
  }
  if (!list.children.length) list.append(h("li", { class: "muted" }, "No open reports."));
}

async function drawLand() {
  const response = await fetch("/staff/world.json");
  const world = await response.json();
  const land = $("land");
  const ns = "http://www.w3.org/2000/svg";
  for (const polygon of world.coordinates) {
    const d = polygon.map((ring) => "M" + ring.map(([lon, lat]) => `${lon},${-lat}`).join("L") + "Z").join("");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    land.append(path);
  }
}

function movePin() {
  const lon = Number($("f-geometry.coordinates.0")?.value);
  const lat = Number($("f-geometry.coordinates.1")?.value);
  const pin = $("pin");
  const ok = Number.isFinite(lon) && Number.isFinite(lat);
  pin.setAttribute("cx", ok ? lon : -999);
  pin.setAttribute("cy", ok ? -lat : -999);
}

// -- wiring -------------------------------------------------------------------------------------------------
$("sign-in-button").addEventListener("click", signIn);
$("sign-out").addEventListener("click", signOut);
$("search").addEventListener("input", renderList);
$("form").addEventListener("submit", save);
$("take-theirs").addEventListener("click", () => {
  if (state.conflict) load(state.conflict.feature, state.conflict.etag);
  $("status").textContent = "Loaded the saved version; make your change again.";
});
if (state.token) signIn();
