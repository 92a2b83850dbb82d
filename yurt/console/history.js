// The history of one post: every change with author, time and a before → after view of each field, and an undo of
// any entry (POST /v1/audit/<seq>/restore: the mission's ETag for its own entries, the dataset's for a bulk
// one). When the undo would also revert later edits the server answers 409 listing them in `changed_since`; the
// console shows that and offers "undo anyway", which names them in `overwrite`.
"use strict";

import { $, api, h, localTime, t, tr, v } from "./core.js";
import { FIELDS, editor } from "./editor.js";

export const history = { onUndone: null };

const LABELS = Object.fromEntries(FIELDS.map(([, path, labelKey]) => [path, labelKey]));

export function show(value) {
  if (value === null || value === undefined || (Array.isArray(value) && !value.length)) return "—";
  if (Array.isArray(value)) {
    return value.map((x) => (typeof x !== "object" ? String(x)
      : x.number ? `${x.number} (${v(x.kind)})${x.note ? " " + x.note : ""}`
        : x.source ? `${x.source}${x.date ? " [" + x.date + "]" : ""}` : JSON.stringify(x))).join("; ");
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

// Field path → shown value, for the fields staff edit (the point as "lat, lon").
function flatten(feature) {
  const out = {};
  if (!feature) return out;
  const [lon, lat] = feature.geometry?.coordinates || [];
  if (lat !== undefined) out["geometry.coordinates"] = `${lat}, ${lon}`;
  for (const [key, value] of Object.entries(feature.properties || {})) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [sub, subValue] of Object.entries(value)) out[`properties.${key}.${sub}`] = show(subValue);
    } else {
      out[`properties.${key}`] = show(value);
    }
  }
  return out;
}

function label(path) {
  if (path === "geometry.coordinates") return `${t("lat")}, ${t("lon")}`;
  return LABELS[path] ? t(LABELS[path]) : path.replace(/^properties\./, "");
}

export const diff = (before, after) => diffRows(flatten(before), flatten(after), label);

// Rows of the fields whose shown values differ: path → value maps, and the label of a path.
export function diffRows(a, b, labelOf) {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((path) => (a[path] ?? "—") !== (b[path] ?? "—"))
    .map((path) => h("div", { class: "diff-row", "data-path": path },
      h("span", { class: "diff-field" }, labelOf(path)),
      h("del", { class: "before" }, a[path] ?? "—"), h("span", { "aria-hidden": "true" }, " → "),
      h("ins", { class: "after" }, b[path] ?? "—")));
}

export async function loadHistory() {
  const r = await api("GET", `/v1/missions/${encodeURIComponent(editor.id)}/history?limit=30`);
  const list = $("history");
  list.replaceChildren();
  for (const entry of r.data?.entries || []) {
    const action = entry.mission_id === null ? `${v(entry.action)} (${t("bulk")})` : v(entry.action);
    list.append(h("li", { "data-seq": entry.seq },
      h("div", { class: "entry-head" },
        h("span", {}, t("historyEntry", { at: localTime(entry.at), author: entry.author, action })),
        tr("button", "undo", { type: "button", class: "small undo", onclick: () => undo(entry) })),
      h("div", { class: "diff" }, diff(entry.before, entry.after))));
  }
  if (!list.children.length) list.append(tr("li", "noHistory", { class: "muted" }));
}

async function preconditions(entry) {
  if (entry.mission_id === null) {
    const dataset = await fetch("/v1/missions", { method: "HEAD" });
    return { "If-Match": dataset.headers.get("ETag") };
  }
  return editor.etag ? { "If-Match": editor.etag } : { "If-None-Match": "*" };
}

async function undo(entry, overwrite) {
  const status = $("history-status");
  status.replaceChildren();
  const body = overwrite ? { overwrite: overwrite.missions, overwrite_dataset_facts: overwrite.facts } : undefined;
  const r = await api("POST", `/v1/audit/${entry.seq}/restore`, body, await preconditions(entry));
  if (r.status === 200 || r.status === 204) {
    status.textContent = t(r.status === 204 ? "undoneDeleted" : "undone");
    await history.onUndone?.(entry, r);
  } else if (r.status === 409 && r.data?.changed_since) {
    const again = { missions: r.data.changed_since, facts: Boolean(r.data.dataset_facts_changed_since) };
    const ids = [...again.missions, ...(again.facts ? [t("bulk")] : [])].join(", ");
    status.append(h("span", { class: "warning-text", id: "undo-conflict" }, t("undoConflict", { ids })), " ",
      tr("button", "undoAnyway", { id: "undo-anyway", type: "button", class: "small",
        onclick: () => undo(entry, again) }), " ",
      tr("button", "cancel", { type: "button", class: "small", onclick: () => status.replaceChildren() }));
    $("undo-anyway").focus();
  } else if (r.status === 409) {
    status.textContent = t("undoNothing");
  } else if (r.status === 412) {
    status.textContent = t("undoStale");
  } else {
    status.textContent = t("notSaved", { detail: r.data?.detail || r.status });
  }
}
