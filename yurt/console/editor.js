// The editor of one post, in sections, with the server's validation shown at each field. Saving asks for the
// source of the change and its date (default today): the source is appended to `sources` and `checked_on`
// moves to the newest source date, so it moves only with a source. A correction (a typo) may be saved without
// one; a building-level point may not. A stale ETag (412) shows the other person's change beside yours.
"use strict";

import { $, api, h, localTime, session, t, today, tr, tv } from "./core.js";
import { locationTools, mountMap, pointFromInputs } from "./location.js";
import { showDistricts } from "./map.js";

const TYPES = ["embassy", "consulate_general", "consulate", "honorary_consulate", "permanent_mission",
  "diplomatic_mission"];
const STATUSES = ["open", "limited", "suspended", "closed"];
const PHONE_KINDS = ["main", "consular", "emergency", "fax"];
const SERVICES = ["passports", "visas", "notary", "civil_registry", "citizenship", "consular_registration",
  "legalisation", "return_certificate", "emergency_assistance"];
const NULLABLE = new Set(["status_note", "address", "email", "website", "hours", "hours_note", "districts_note",
  "note", "refer_to"]);

// [section, path, label key, kind, options]
export const FIELDS = [
  ["sIdentity", "properties.name.en", "nameEn", "text"],
  ["sIdentity", "properties.name.kk", "nameKk", "text"],
  ["sIdentity", "properties.name.ru", "nameRu", "text"],
  ["sIdentity", "properties.type", "type", "select", TYPES],
  ["sIdentity", "properties.status", "status", "select", STATUSES],
  ["sIdentity", "properties.status_note", "statusNote", "text"],
  ["sIdentity", "properties.refer_to", "referTo", "text"],
  ["sIdentity", "properties.host_country", "hostCountry", "text"],
  ["sIdentity", "properties.city", "city", "text"],
  ["sIdentity", "properties.name_unsourced", "nameUnsourced", "list"],
  ["sContacts", "properties.address", "address", "textarea"],
  ["sContacts", "properties.phones", "phones", "phones"],
  ["sContacts", "properties.email", "email", "text"],
  ["sContacts", "properties.website", "website", "text"],
  ["sHours", "properties.timezone", "timezone", "text"],
  ["sHours", "properties.hours", "hours", "text"],
  ["sHours", "properties.hours_note", "hoursNote", "text"],
  ["sServices", "properties.services", "services", "checks", SERVICES],
  ["sServices", "properties.services_default", "servicesDefault", "checkbox"],
  ["sCoverage", "properties.accredited_to", "accreditedTo", "list"],
  ["sCoverage", "properties.districts", "districts", "list"],
  ["sCoverage", "properties.districts_note", "districtsNote", "text"],
  ["sLocation", "geometry.coordinates.1", "lat", "number"],
  ["sLocation", "geometry.coordinates.0", "lon", "number"],
  ["sLocation", "properties.location_precision", "precision", "select", ["building", "city"]],
  ["sSources", "properties.sources", "sSources", "sources"],
  ["sSources", "properties.checked_on", "checkedOn", "readonly"],
  ["sSources", "properties.note", "note", "textarea"],
];
const SECTIONS = ["sIdentity", "sContacts", "sHours", "sServices", "sCoverage", "sLocation", "sSources"];

export const editor = { id: null, etag: null, feature: null, conflict: null, sources: [], onSaved: null };

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}
function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  const target = keys.reduce((o, k) => (o[k] = o[k] ?? {}), obj);
  if (value === undefined) delete target[last]; else target[last] = value;
}
const dataPath = (path) => path.replace(/\.(\d)$/, "[$1]");

function inputFor(path, kind, options, value) {
  const attrs = { id: "f-" + path, name: path, "data-path": dataPath(path) };
  if (kind === "select") {
    return h("select", attrs, options.map((o) => tv("option", o, { value: o, selected: o === value })));
  }
  if (kind === "checkbox") return h("input", { ...attrs, type: "checkbox", checked: Boolean(value) });
  if (kind === "checks") {
    return h("fieldset", { ...attrs, class: "checks" }, options.map((o) => h("label", {},
      h("input", { type: "checkbox", value: o, checked: (value || []).includes(o) }), " ", tv("span", o))));
  }
  if (kind === "readonly") return h("output", { ...attrs }, value ?? "—");
  if (kind === "textarea") {
    const el = h("textarea", { ...attrs, rows: 2 });
    el.value = value ?? "";
    return el;
  }
  const el = h("input", { ...attrs, type: "text", inputmode: kind === "number" ? "decimal" : null,
    autocomplete: "off" });
  el.value = kind === "list" ? (value || []).join(", ") : (value ?? "");
  if (kind === "number") el.addEventListener("change", pointFromInputs);
  if (path === "properties.districts") el.addEventListener("change", () => showDistricts(listValue(el)));
  return el;
}

function phoneRow(phone) {
  const number = h("input", { "data-role": "number", "data-i18n-label": "phoneNumber",
    "aria-label": t("phoneNumber"), inputmode: "tel" });
  number.value = phone.number || "";
  const kind = h("select", { "data-role": "kind", "data-i18n-label": "phoneKind", "aria-label": t("phoneKind") },
    PHONE_KINDS.map((k) => tv("option", k, { value: k, selected: k === phone.kind })));
  const note = h("input", { "data-role": "note", "data-i18n-label": "phoneNote", "aria-label": t("phoneNote"),
    "data-i18n-placeholder": "phoneNote", placeholder: t("phoneNote") });
  note.value = phone.note || "";
  const remove = h("button", { type: "button", class: "small", "data-i18n-label": "remove", "aria-label": t("remove"),
    onclick: (e) => { e.target.closest(".phone-row").remove(); numberPhones(); } }, "×");
  return h("div", { class: "phone-row" }, number, kind, note, remove);
}

// Paths as the server will name them, so its errors find the right input after rows are added or removed.
function numberPhones() {
  document.querySelectorAll("#phones .phone-row").forEach((row, i) => {
    for (const el of row.querySelectorAll("[data-role]")) el.dataset.path = `properties.phones[${i}].${el.dataset.role}`;
  });
}

function sourcesList() {
  const list = h("ul", { id: "sources", class: "sources", "data-path": "properties.sources" });
  if (!editor.sources.length) list.append(tr("li", "noSources", { class: "muted" }));
  editor.sources.forEach((source, i) => {
    const text = typeof source === "string" ? source : source.source;
    const date = typeof source === "string" ? null : source.date;
    list.append(h("li", { "data-path": `properties.sources[${i}]` },
      h("span", { class: "source-text" }, text), " ",
      date ? h("span", { class: "muted" }, date) : tr("span", "undated", { class: "muted" }), " ",
      h("button", { type: "button", class: "small", "aria-label": `${t("remove")}: ${text}`,
        onclick: () => { editor.sources.splice(i, 1); list.replaceWith(sourcesList()); } }, "×")));
  });
  return list;
}

function fieldRow(path, labelKey, kind, options, value) {
  if (kind === "phones") {
    const rows = h("div", { id: "phones", "data-path": "properties.phones" }, (value || []).map(phoneRow));
    const add = tr("button", "addPhone", { type: "button", class: "small",
      onclick: () => { rows.append(phoneRow({ kind: "main" })); numberPhones(); rows.lastChild.firstChild.focus(); } });
    return [tr("span", labelKey, { class: "label" }), h("div", {}, rows, add)];
  }
  if (kind === "sources") return [tr("span", labelKey, { class: "label" }), sourcesList()];
  const label = tr("label", labelKey, { for: "f-" + path });
  const input = inputFor(path, kind, options, value);
  if (kind === "readonly") return [label, h("div", {}, input, tr("p", "checkedOnHelp", { class: "muted small" }))];
  return [label, input];
}

function saveArea() {
  const source = h("input", { id: "change-source", type: "text", autocomplete: "off", "data-path": "change.source",
    "data-i18n-placeholder": "changeSourceHint", placeholder: t("changeSourceHint") });
  const date = h("input", { id: "change-date", type: "date", value: today(), max: today(),
    "data-path": "change.date" });
  return h("fieldset", { class: "section save-area" }, tr("legend", "sSave"),
    h("div", { class: "grid" },
      tr("label", "changeSource", { for: "change-source" }), source,
      tr("label", "changeDate", { for: "change-date" }), date,
      h("label", { class: "wide check" }, h("input", { id: "correction", type: "checkbox" }), " ",
        tr("span", "correction"))),
    tr("button", "save", { id: "save", type: "submit" }));
}

export function renderForm(feature) {
  editor.sources = structuredClone(feature.properties.sources || []);
  const sections = SECTIONS.map((section) => {
    const rows = FIELDS.filter((f) => f[0] === section)
      .flatMap(([, path, labelKey, kind, options]) => fieldRow(path, labelKey, kind, options, getPath(feature, path)));
    const extra = section === "sLocation" ? [locationTools()] : [];
    return h("details", { class: "section", open: true, "data-section": section },
      tr("summary", section), h("div", { class: "grid" }, extra, rows));
  });
  $("form").replaceChildren(...sections, saveArea());
  numberPhones();
}

function listValue(el) {
  return el.value.split(",").map((s) => s.trim()).filter(Boolean);
}

function collect() {
  const feature = structuredClone(editor.feature);
  for (const [, path, , kind] of FIELDS) {
    if (["phones", "sources", "readonly"].includes(kind)) continue;
    const el = $("f-" + path);
    const key = path.split(".").pop();
    let value;
    if (kind === "checkbox") value = el.checked;
    else if (kind === "checks") value = [...el.querySelectorAll("input:checked")].map((c) => c.value);
    else if (kind === "list") value = listValue(el);
    else if (kind === "number") value = el.value.trim() === "" || isNaN(Number(el.value)) ? el.value : Number(el.value);
    else value = el.value.trim();
    if (value === "" && NULLABLE.has(key)) value = null;
    if (value === "" && key === "timezone") value = undefined; // derived from the point by the server
    setPath(feature, path, value);
  }
  if (feature.properties.refer_to === null) delete feature.properties.refer_to;
  feature.properties.phones = [...document.querySelectorAll("#phones .phone-row")].map((row) => {
    const get = (role) => row.querySelector(`[data-role="${role}"]`).value.trim();
    return get("note") ? { number: get("number"), kind: get("kind"), note: get("note") }
      : { number: get("number"), kind: get("kind") };
  });
  feature.properties.sources = structuredClone(editor.sources);
  return feature;
}

// -- errors -----------------------------------------------------------------------------------------------------
export function clearError(el) {
  el.classList.remove("invalid");
  if (el.nextElementSibling?.classList.contains("field-error")) el.nextElementSibling.remove();
}
export function showError(el, message, path) {
  el.classList.add("invalid");
  el.after(h("div", { class: "field-error", "data-error-for": path, role: "alert" }, message));
}
export function clearErrors(form = "#form") {
  document.querySelectorAll(`${form} .field-error`).forEach((e) => e.remove());
  document.querySelectorAll(`${form} .invalid`).forEach((e) => e.classList.remove("invalid"));
}
const parentPath = (path) => path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");

// Each error beside the input of its path, or of the nearest enclosing path; answers those with no input.
export function showErrors(errors, form = "#form") {
  const unplaced = [];
  for (const [path, messages] of Object.entries(errors || {})) {
    let el = path === "geometry.coordinates" ? $("f-geometry.coordinates.1") : null;
    for (let p = path; p && !el; p = parentPath(p) === p ? "" : parentPath(p)) {
      el = document.querySelector(`${form} [data-path="${CSS.escape(p)}"]`);
    }
    if (!el) { unplaced.push(`${path}: ${messages.join("; ")}`); continue; }
    el.closest("details")?.setAttribute("open", "");
    showError(el, messages.join("; "), path);
  }
  document.querySelector(`${form} .invalid`)?.focus();
  return unplaced;
}

// -- open, save, conflicts ----------------------------------------------------------------------------------------
export function load(feature, etag) {
  editor.feature = feature;
  editor.etag = etag;
  editor.conflict = null;
  $("conflict").hidden = true;
  $("editor-title").textContent = `${feature.properties.name[session.lang] || feature.properties.name.en} (${feature.properties.id})`;
  renderForm(feature);
}

export function newSource(feature, errors) {
  const source = $("change-source").value.trim();
  const date = $("change-date").value;
  const correction = $("correction").checked;
  const nowBuilding = feature.properties.location_precision === "building"
    && (editor.feature.properties.location_precision !== "building"
      || JSON.stringify(feature.geometry.coordinates) !== JSON.stringify(editor.feature.geometry.coordinates));
  if (!source && (nowBuilding || !correction)) {
    errors["change.source"] = [t(nowBuilding ? "buildingNeedsSource" : "sourceNeeded")];
    return null;
  }
  return source ? { source, date: date || today() } : null;
}

// checked_on is the newest source date: a new dated source moves it forward; removing sources in this edit moves it
// back to the newest dated one left (a month or a year counts from its first day), or to none, so it never
// claims a later check than a source shows. Otherwise it stays (older records date it from confirming sources).
function checkedOn(current, sources, added, removed) {
  if (added && (!current || added.date > current)) return added.date;
  if (!removed) return current;
  const dates = sources.filter((x) => typeof x === "object" && x.date)
    .map((x) => ({ 4: `${x.date}-01-01`, 7: `${x.date}-01` }[x.date.length] || x.date));
  const newest = dates.length ? dates.reduce((a, b) => (a > b ? a : b)) : null;
  return newest === null ? null : current && current < newest ? current : newest;
}

export async function save(event) {
  event.preventDefault();
  clearErrors();
  const mine = collect();
  const errors = {};
  const added = newSource(mine, errors);
  if (Object.keys(errors).length) {
    showErrors(errors);
    $("status").textContent = t("notSavedFix");
    return;
  }
  if (added) mine.properties.sources.push(added);
  const removed = editor.feature.properties.sources.some((x) => !editor.sources.some(
    (y) => JSON.stringify(x) === JSON.stringify(y)));
  mine.properties.checked_on = checkedOn(mine.properties.checked_on, mine.properties.sources, added, removed);
  $("status").textContent = t("saving");
  const r = await api("PUT", `/v1/missions/${encodeURIComponent(editor.id)}`, mine, { "If-Match": editor.etag });
  if (r.status === 200) {
    load(r.data, r.etag);
    await mountMap();
    $("status").textContent = t("saved");
    await editor.onSaved?.();
  } else if (r.status === 422) {
    const unplaced = showErrors(r.data.errors);
    $("status").textContent = [t("notSavedFix"), ...unplaced].join(" ");
  } else if (r.status === 412) {
    $("status").textContent = t("notSavedConflict");
    await showConflict(mine, r.data.current, r.data.current_etag);
  } else {
    $("status").textContent = t("notSaved", { detail: r.data?.detail || r.status });
  }
}

async function showConflict(mine, theirs, theirEtag) {
  editor.conflict = { feature: theirs, etag: theirEtag };
  const rows = [];
  for (const [, path, labelKey] of FIELDS) {
    const a = JSON.stringify(getPath(theirs, path) ?? null);
    const b = JSON.stringify(getPath(mine, path) ?? null);
    if (a !== b) {
      rows.push(h("div", { class: "diff-row", "data-path": path }, h("span", { class: "diff-field" }, t(labelKey)),
        h("span", { class: "theirs" }, a), h("span", { class: "mine" }, b)));
    }
  }
  $("conflict-rows").replaceChildren(h("div", { class: "diff-row head" }, tr("span", "field"), tr("span", "theirs"),
    tr("span", "mine")), ...rows);
  const history = await api("GET", `/v1/missions/${encodeURIComponent(editor.id)}/history?limit=1`);
  const last = history.data?.entries?.[0];
  $("conflict-who").textContent = last ? t("conflictWho", { author: last.author, at: localTime(last.at) }) : "";
  $("conflict").hidden = false;
  $("take-theirs").focus();
}

export async function takeTheirs() {
  if (!editor.conflict) return;
  load(editor.conflict.feature, editor.conflict.etag);
  await mountMap();
  $("status").textContent = t("tookTheirs");
}

export { getPath, mountMap };
