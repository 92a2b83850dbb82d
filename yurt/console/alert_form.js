// The editor of one alert: severity, title and text in en/kk/ru, when it is in force, its area (pasted GeoJSON,
// or picked countries and ISO 3166-2 subdivisions) drawn on the console's one map, the posts to contact (with
// their referrals) and sources. Saving is POST (new) or PUT with If-Match (the alert's ETag): the server's 422
// reasons show at their fields (shapely's for an invalid area), a 412 says someone else changed it and offers a
// reload. Deleting asks first.
"use strict";

import { contacts } from "./alerts.js";
import { $, api, countryName, h, session, t, tr, tv } from "./core.js";
import { clearError, clearErrors, showError, showErrors } from "./editor.js";
import { attachMap, mapElement, showAlertArea } from "./map.js";

const SEVERITY_CHOICES = ["info", "advisory", "warning", "evacuation"];
const LANGS = [["en", "inEn"], ["kk", "inKk"], ["ru", "inRu"]];
const FORM = "#alert-form";

export const alertEditor = { id: null, etag: null, doc: null, countries: [], onSaved: null, onDeleted: null };

// ISO 3166-1 codes the browser names (its CLDR data: no request), for the country picker.
let countryCodes = null;
function allCountries() {
  if (!countryCodes) {
    const names = new Intl.DisplayNames(["en"], { type: "region" });
    const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    countryCodes = [...letters].flatMap((a) => [...letters].map((b) => a + b))
      .filter((code) => { try { return names.of(code) !== code && !["EU", "EZ", "UN", "QO", "ZZ"].includes(code); } catch (e) { return false; } });
  }
  return countryCodes;
}

function pickCountry(text) {
  const wanted = text.trim();
  const code = wanted.match(/\(([A-Za-z]{2})\)\s*$/)?.[1] || (wanted.length === 2 ? wanted : null);
  if (code && allCountries().includes(code.toUpperCase())) return code.toUpperCase();
  const lower = wanted.toLocaleLowerCase();
  return allCountries().find((c) => [session.lang, "en", "kk", "ru"].some(
    (lang) => countryName(c, lang).toLocaleLowerCase() === lower)) || null;
}

// -- datetime-local inputs hold local minutes; the API holds aware ISO instants -----------------------------------
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
function instant(input) {
  if (!input.value) return null;
  return input.value === input.dataset.initial ? input.dataset.iso : new Date(input.value).toISOString();
}

function row(labelKey, input, extra) {
  return [h("label", { for: input.id }, tr("span", labelKey), extra ? [" (", tr("span", extra), ")"] : null), input];
}
function text(id, path, value, tag = "input") {
  const el = h(tag, { id, "data-path": path, ...(tag === "input" ? { type: "text", autocomplete: "off" } : { rows: 3 }) });
  el.value = value ?? "";
  return el;
}
function when(id, path, iso) {
  const el = h("input", { id, type: "datetime-local", "data-path": path });
  el.value = el.dataset.initial = localInput(iso);
  el.dataset.iso = iso || "";
  return el;
}

function countryChips() {
  const list = h("ul", { id: "a-countries", class: "chips", "data-path": "countries", tabindex: "-1" });
  for (const code of alertEditor.countries) {
    list.append(h("li", { "data-country": code }, `${countryName(code)} (${code}) `,
      h("button", { type: "button", class: "small", "aria-label": `${t("remove")}: ${countryName(code)}`,
        onclick: () => { alertEditor.countries.splice(alertEditor.countries.indexOf(code), 1); redrawChips(); } },
      "×")));
  }
  return list;
}
function redrawChips() { $("a-countries").replaceWith(countryChips()); drawArea(); }

function addCountry() {
  const input = $("a-country");
  clearError(input);
  const code = pickCountry(input.value);
  if (!code) { showError(input, t("unknownCountry"), "country"); input.focus(); return; }
  if (!alertEditor.countries.includes(code)) alertEditor.countries.push(code);
  input.value = "";
  redrawChips();
  input.focus();
}

function areaSection(doc) {
  const byShape = !(doc.countries?.length || doc.subdivisions?.length);
  const radio = (value, key, checked) => h("label", { class: "check" },
    h("input", { type: "radio", name: "area-kind", value, checked, onchange: areaKind }), " ", tr("span", key));
  const geojson = text("a-area", "area", doc.area ? JSON.stringify(doc.area) : "", "textarea");
  geojson.rows = 5;
  geojson.spellcheck = false;
  const country = h("input", { id: "a-country", type: "text", list: "a-country-options", autocomplete: "off" });
  country.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addCountry(); } });
  const options = h("datalist", { id: "a-country-options" },
    allCountries().map((c) => h("option", { value: `${countryName(c)} (${c})` })));
  return h("fieldset", { class: "section", id: "a-area-kind" }, tr("legend", "areaKind"),
    h("div", { class: "row" }, radio("shape", "areaByShape", byShape), radio("place", "areaByPlace", !byShape)),
    h("div", { class: "grid", id: "a-by-shape", hidden: !byShape }, ...row("areaGeojson", geojson),
      h("div", { class: "wide" }, tr("button", "showOnMap", { id: "a-show", type: "button", class: "small",
        onclick: drawArea }))),
    h("div", { class: "grid", id: "a-by-place", hidden: byShape },
      ...row("countryPick", country), options,
      h("div", { class: "wide" }, tr("button", "addCountry", { id: "a-add-country", type: "button", class: "small",
        onclick: addCountry })),
      tr("span", "countries", { class: "label" }), countryChips(),
      ...row("subdivisions", text("a-subdivisions", "subdivisions", (doc.subdivisions || []).join(", ")))),
    h("div", { class: "location" }, mapElement(), h("p", { id: "area-status", role: "status", class: "small" })));
}

function areaKind() {
  const shape = document.querySelector('input[name="area-kind"]:checked').value === "shape";
  $("a-by-shape").hidden = !shape;
  $("a-by-place").hidden = shape;
  drawArea();
}

const listValue = (el) => el.value.split(",").map((s) => s.trim()).filter(Boolean);

// The pasted text as a geometry (a Feature or a one-Feature collection gives its geometry), or an error.
function pastedArea() {
  const raw = $("a-area").value.trim();
  if (!raw) return { area: null };
  try {
    let value = JSON.parse(raw);
    if (value?.type === "FeatureCollection" && value.features?.length === 1) value = value.features[0];
    if (value?.type === "Feature") value = value.geometry;
    return { area: value };
  } catch (e) {
    return { error: t("notJson", { detail: e.message }) };
  }
}

async function drawArea() {
  const status = $("area-status");
  const shape = document.querySelector('input[name="area-kind"]:checked').value === "shape";
  clearError($("a-area"));
  if (shape) {
    const { area, error } = pastedArea();
    if (error) { showError($("a-area"), error, "area"); await showAlertArea(null); return; }
    const drawable = ["Polygon", "MultiPolygon"].includes(area?.type);
    await showAlertArea(drawable ? area : null);
    status.textContent = drawable ? t("drawnArea") : "";
    return;
  }
  const subdivisions = listValue($("a-subdivisions"));
  const missing = await showAlertArea(null, alertEditor.countries, subdivisions);
  const drawn = [...alertEditor.countries.filter((c) => !missing.includes(c)), ...subdivisions];
  status.textContent = [drawn.length ? t("drawnPlaces", { drawn: drawn.join(", ") }) : "",
    missing.length ? t("notDrawn", { codes: missing.join(", ") }) : ""].join(" ");
}

function sourcesText(sources) {
  return (sources || []).map((s) => (typeof s === "string" ? s : s.date ? `${s.source} | ${s.date}` : s.source))
    .join("\n");
}
function sourcesValue(el) {
  return el.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [source, date] = line.split(/\s+\|\s+/);
    return date ? { source, date } : source;
  });
}

export function renderAlertForm(doc) {
  alertEditor.countries = [...(doc.countries || [])];
  const severity = h("select", { id: "a-severity", "data-path": "severity" },
    SEVERITY_CHOICES.map((s) => tv("option", s, { value: s, selected: s === (doc.severity || "warning") })));
  const missions = text("a-missions", "missions", (doc.missions || []).join(", "));
  const contactList = h("div", { id: "a-contacts", class: "wide" }, contacts(doc.missions));
  missions.addEventListener("change", () => contactList.replaceChildren(contacts(listValue(missions)) || ""));
  const remove = alertEditor.id ? tr("button", "deleteAlert", { id: "a-delete", type: "button", class: "danger",
    onclick: askDelete }) : null;
  $("alert-form").replaceChildren(
    h("fieldset", { class: "section" }, tr("legend", "aTitle"), h("div", { class: "grid" },
      ...row("severity", severity),
      ...LANGS.flatMap(([lang, key]) => row("aTitle", text(`a-title-${lang}`, `title.${lang}`, doc.title?.[lang]), key)),
      ...LANGS.flatMap(([lang, key]) => row("aBody", text(`a-body-${lang}`, `body.${lang}`, doc.body?.[lang],
        "textarea"), key)),
      ...row("validFrom", when("a-valid-from", "valid_from", doc.valid_from)),
      ...row("validTo", when("a-valid-to", "valid_to", doc.valid_to)))),
    areaSection(doc),
    h("fieldset", { class: "section" }, tr("legend", "contacts"), h("div", { class: "grid" },
      ...row("alertMissions", missions), contactList,
      ...row("alertSources", text("a-sources", "sources", sourcesText(doc.sources), "textarea")))),
    h("div", { class: "row" }, tr("button", "saveAlert", { id: "a-save", type: "submit" }), remove),
    h("div", { id: "delete-confirm", role: "group", hidden: true }));
}

function collect() {
  const shape = document.querySelector('input[name="area-kind"]:checked').value === "shape";
  const body = { severity: $("a-severity").value,
    title: Object.fromEntries(LANGS.map(([lang]) => [lang, $(`a-title-${lang}`).value.trim()])),
    body: Object.fromEntries(LANGS.map(([lang]) => [lang, $(`a-body-${lang}`).value.trim()])),
    valid_to: instant($("a-valid-to")), missions: listValue($("a-missions")), sources: sourcesValue($("a-sources")),
    area: null, countries: shape ? [] : [...alertEditor.countries],
    subdivisions: shape ? [] : listValue($("a-subdivisions")) };
  const from = instant($("a-valid-from"));
  if (from) body.valid_from = from;
  if (shape) {
    const { area, error } = pastedArea();
    if (error) return { error };
    body.area = area;
  }
  return { body };
}

// -- open, save, delete ----------------------------------------------------------------------------------------
export async function loadAlert(doc, etag) {
  alertEditor.doc = doc;
  alertEditor.etag = etag;
  alertEditor.id = doc.id || null;
  $("alert-conflict").hidden = true;
  $("alert-editor-title").textContent = doc.id ? t("editAlertTitle", { id: doc.id }) : t("newAlertTitle");
  renderAlertForm(doc);
  const el = mapElement();
  el.dataset.i18nLabel = "alertMapLabel";
  el.setAttribute("aria-label", t("alertMapLabel"));
  await attachMap(null);
  await drawArea();
}

export async function saveAlert(event) {
  event.preventDefault();
  clearErrors(FORM);
  const { body, error } = collect();
  if (error) { showError($("a-area"), error, "area"); $("a-area").focus(); $("alert-status").textContent = t("notSavedFix"); return; }
  $("alert-status").textContent = t("saving");
  const r = alertEditor.id
    ? await api("PUT", `/v1/alerts/${encodeURIComponent(alertEditor.id)}`, body, { "If-Match": alertEditor.etag })
    : await api("POST", "/v1/alerts", body);
  if (r.status === 200 || r.status === 201) {
    await loadAlert(r.data, r.etag);
    $("alert-status").textContent = t("saved");
    await alertEditor.onSaved?.(r.data.id);
  } else if (r.status === 422) {
    const unplaced = showErrors(r.data.errors, FORM);
    $("alert-status").textContent = [t("notSavedFix"), ...unplaced].join(" ");
  } else if (r.status === 412) {
    conflict();
  } else {
    $("alert-status").textContent = t("notSaved", { detail: r.data?.detail || r.status });
  }
}

function conflict() {
  $("alert-status").textContent = "";
  $("alert-conflict").hidden = false;
  $("alert-reload").focus();
}

export async function reloadAlert() {
  const r = await api("GET", `/v1/alerts/${encodeURIComponent(alertEditor.id)}`);
  if (r.status !== 200) { $("alert-status").textContent = r.data?.detail || String(r.status); return; }
  await loadAlert(r.data, r.etag);
  $("alert-status").textContent = t("reloaded");
  $("alert-editor-title").focus();
}

function askDelete() {
  const box = $("delete-confirm");
  const cancel = tr("button", "cancel", { type: "button", class: "small", onclick: () => {
    box.hidden = true; $("a-delete").focus(); } });
  box.replaceChildren(tr("p", "confirmDelete"), h("div", { class: "row" },
    tr("button", "deleteYes", { id: "a-delete-yes", type: "button", class: "small danger", onclick: deleteAlert }),
    cancel));
  box.hidden = false;
  cancel.focus();
}

async function deleteAlert() {
  const r = await api("DELETE", `/v1/alerts/${encodeURIComponent(alertEditor.id)}`, undefined,
    { "If-Match": alertEditor.etag });
  $("delete-confirm").hidden = true;
  if (r.status === 204) { await alertEditor.onDeleted?.(); $("alerts-summary").textContent += " " + t("deleted"); }
  else if (r.status === 412) conflict();
  else $("alert-status").textContent = t("notSaved", { detail: r.data?.detail || r.status });
}
