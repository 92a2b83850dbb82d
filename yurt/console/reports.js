// Reports, both kinds, labelled apart: about posts (GET /v1/reports, with `total`; triage with a chosen
// resolution and a note; a link to the post's editor) and about travellers (GET /v1/staff/traveller-reports;
// suspension). Open ones first, with their counts.
"use strict";

import { $, api, h, localTime, t, tr, tv, v } from "./core.js";

const RESOLUTIONS = ["fixed", "no_change_needed", "duplicate", "spam"];

export const reports = { onOpenPost: null };

function missionReport(report) {
  const resolution = h("select", { class: "resolution", "data-i18n-label": "resolution", "aria-label": t("resolution") },
    RESOLUTIONS.map((r) => tv("option", r, { value: r })));
  const note = h("input", { class: "note", type: "text", "data-i18n-label": "resolutionNote",
    "aria-label": t("resolutionNote"), "data-i18n-placeholder": "resolutionNote", placeholder: t("resolutionNote") });
  const message = h("p", { class: "small", role: "status" });
  const resolve = tr("button", "resolve", { type: "button", class: "small resolve", onclick: async () => {
    const r = await api("POST", `/v1/reports/${report.id}/resolve`,
      { resolution: resolution.value, note: note.value.trim() || null });
    if (r.status === 200) await loadReports();
    else message.textContent = r.data?.detail || String(r.status);
  } });
  return h("li", { "data-report": report.id },
    h("div", {}, h("strong", {}, v(report.category)), " · ", localTime(report.created_at)),
    h("p", { class: "report-text" }, report.text),
    h("div", { class: "row" },
      h("button", { type: "button", class: "link open-post", onclick: () => reports.onOpenPost?.(report.mission_id) },
        `${t("openPost")}: ${report.mission_id}`)),
    h("div", { class: "row" }, resolution, note, resolve), message);
}

function resolvedReport(report) {
  return h("li", { "data-report": report.id, class: "resolved" },
    h("div", {}, h("strong", {}, v(report.category)), ` · ${report.mission_id} · ${localTime(report.resolved_at)}`),
    h("p", { class: "report-text" }, report.text),
    h("p", { class: "muted small" }, t("resolvedBy", { resolution: v(report.resolution), author: report.resolved_by,
      note: report.resolution_note || "—" })));
}

function travellerReport(report) {
  const message = h("span", { class: "small", role: "status" });
  if (report.open === false) {
    return h("li", { "data-traveller-report": report.id, class: "resolved" },
      h("div", {}, h("strong", {}, report.reason || "—"), " · ", localTime(report.at)),
      h("p", { class: "muted small" }, t("reportedBy", { target: report.target, reporter: report.reporter }),
        " · ", t("suspended")));
  }
  return h("li", { "data-traveller-report": report.id },
    h("div", {}, h("strong", {}, report.reason || "—"), " · ", localTime(report.at)),
    h("p", { class: "small" }, t("reportedBy", { target: report.target, reporter: report.reporter })),
    tr("button", "suspend", { type: "button", class: "small suspend", onclick: async (e) => {
      const r = await api("POST", `/v1/staff/travellers/${encodeURIComponent(report.target)}/suspension`);
      message.textContent = r.status === 200 ? t("suspended") : r.data?.detail || String(r.status);
      if (r.status === 200) await loadReports();
    } }), " ", message);
}

// Every page of the staff list (cursor paging), up to MAX_TRAVELLER_REPORTS.
const MAX_TRAVELLER_REPORTS = 1000;
async function travellerReports() {
  const all = [];
  let cursor = null;
  do {
    const r = await api("GET", "/v1/staff/traveller-reports?limit=200" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    if (r.status !== 200) break;
    all.push(...(r.data.reports || []));
    cursor = r.data.next_cursor;
  } while (cursor && all.length < MAX_TRAVELLER_REPORTS);
  return all;
}

export async function loadReports() {
  const [open, resolved, travellers] = await Promise.all([
    api("GET", "/v1/reports?status=open&limit=100"),
    api("GET", "/v1/reports?status=resolved&limit=10"),
    travellerReports(),
  ]);
  const openTotal = open.data?.total ?? 0;
  $("mission-reports-count").textContent = t("openCount", { n: openTotal });
  $("mission-reports").replaceChildren(...(open.data?.reports || []).map(missionReport));
  if (!openTotal) $("mission-reports").append(tr("li", "noOpenReports", { class: "muted" }));
  $("resolved-reports").replaceChildren(...(resolved.data?.reports || []).map(resolvedReport));
  // Open ones (not yet acted on) first, newest first within each group, as the list gives them.
  const aboutTravellers = [...travellers.filter((r) => r.open !== false), ...travellers.filter((r) => r.open === false)];
  const openTravellers = travellers.filter((r) => r.open !== false).length;
  $("traveller-reports-count").textContent = t("openCount", { n: openTravellers });
  $("traveller-reports").replaceChildren(...aboutTravellers.map(travellerReport));
  if (!aboutTravellers.length) $("traveller-reports").append(tr("li", "noTravellerReports", { class: "muted" }));
  $("reports-badge").textContent = openTotal + openTravellers ? String(openTotal + openTravellers) : "";
}
