// The history of one alert (GET /v1/alerts/<id>/history): every change with author, time and each field before
// → after, as a post's history shows it. The newest edit can be undone: its `before` is saved back with PUT and
// the alert's ETag, so a change someone made meanwhile is a 412, never overwritten.
"use strict";

import { alertEditor } from "./alert_form.js";
import { $, api, h, localTime, t, tr, v } from "./core.js";
import { diffRows, show } from "./history.js";

export const alertHistory = { onUndone: null };

const LABELS = { severity: "severity", valid_from: "validFrom", valid_to: "validTo", countries: "countries",
  subdivisions: "subdivisions", missions: "contacts", sources: "sSources", area: "areaKind" };
const SKIPPED = new Set(["id", "created_at", "updated_at", "area_countries"]);

// The area as its kind and size: its coordinates would fill the page.
function positions(area) {
  return JSON.stringify(area.coordinates).split("],[").length;
}

function flatten(doc) {
  const out = {};
  for (const [key, value] of Object.entries(doc || {})) {
    if (SKIPPED.has(key)) continue;
    if (key === "area") out.area = value ? `${value.type}, ${positions(value)} positions` : "—";
    else if (key === "title" || key === "body") {
      for (const [lang, text] of Object.entries(value || {})) out[`${key}.${lang}`] = text;
    } else out[key] = show(key === "severity" && value ? v(value) : value);
  }
  return out;
}

function label(path) {
  const [key, lang] = path.split(".");
  if (lang) return `${t(key === "title" ? "aTitle" : "aBody")} (${lang})`;
  return LABELS[key] ? t(LABELS[key]) : key;
}

export async function loadAlertHistory() {
  const list = $("alert-history");
  $("alert-history-section").hidden = !alertEditor.id;
  list.replaceChildren();
  if (!alertEditor.id) return;
  const r = await api("GET", `/v1/alerts/${encodeURIComponent(alertEditor.id)}/history?limit=30`);
  (r.data?.entries || []).forEach((entry, i) => {
    const undoable = i === 0 && entry.before && entry.after; // the newest edit
    list.append(h("li", { "data-seq": entry.seq },
      h("div", { class: "entry-head" },
        h("span", {}, t("historyEntry", { at: localTime(entry.at), author: entry.author, action: v(entry.action) })),
        undoable ? tr("button", "undo", { type: "button", class: "small undo", onclick: () => undo(entry) }) : null),
      h("div", { class: "diff" }, diffRows(flatten(entry.before), flatten(entry.after), label))));
  });
  if (!list.children.length) list.append(tr("li", "noHistory", { class: "muted" }));
}

async function undo(entry) {
  const status = $("alert-history-status");
  const r = await api("PUT", `/v1/alerts/${encodeURIComponent(alertEditor.id)}`, entry.before,
    { "If-Match": alertEditor.etag });
  if (r.status === 200) {
    await alertHistory.onUndone?.(r.data, r.etag);
    status.textContent = t("alertUndone");
  } else if (r.status === 412) {
    status.textContent = "";
    $("alert-conflict").hidden = false;
    $("alert-reload").focus();
  } else {
    status.textContent = t("notSaved", { detail: r.data?.detail || r.status });
  }
}
