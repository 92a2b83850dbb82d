// Travel alerts in the console: the list (in force, upcoming, ended; most severe first, then newest) from
// GET /v1/staff/alerts, and, in a post's editor, the alerts in force that concern the post (naming it among the
// posts to contact, or covering its location) with the post's referral (refer_to) beside them.
"use strict";

import { $, api, countryName, h, localTime, session, t, tr, tv } from "./core.js";
import { work } from "./list.js";

export const SEVERITIES = ["evacuation", "warning", "advisory", "info"]; // most severe first
const STATES = ["inForce", "upcoming", "ended"];

export const alerts = { list: [], now: 0, openId: null, onOpen: null };

export async function loadAlerts() {
  const r = await api("GET", "/v1/staff/alerts");
  if (r.status !== 200) { $("alerts-summary").textContent = r.data?.detail || String(r.status); return; }
  alerts.list = r.data.alerts;
  alerts.now = Date.parse(r.data.now);
  renderAlerts();
}

export function stateOf(alert, now = Date.now()) {
  if (Date.parse(alert.valid_from) > now) return "upcoming";
  return alert.valid_to && Date.parse(alert.valid_to) <= now ? "ended" : "inForce";
}

const order = (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)
  || Date.parse(b.valid_from) - Date.parse(a.valid_from) || a.id.localeCompare(b.id);

export const titleOf = (alert) => alert.title[session.lang] || alert.title.en;

export function where(alert) {
  if (alert.area_type) return t("areaPolygon");
  return [...(alert.countries || []).map((c) => `${countryName(c)} (${c})`), ...(alert.subdivisions || [])].join(", ");
}

function postName(id) {
  const p = work.missions.find((f) => f.properties.id === id)?.properties;
  return p ? `${p.city} · ${p.name[session.lang] || p.name.en} (${id})` : id;
}

const referTo = (id) => work.missions.find((f) => f.properties.id === id)?.properties.refer_to || null;

// The posts an alert names, each with its referral when it has one.
export function contacts(ids) {
  if (!ids?.length) return null;
  return h("ul", { class: "contacts small" }, ids.map((id) => h("li", { "data-mission": id },
    referTo(id) ? t("refersTo", { post: postName(id), to: postName(referTo(id)) }) : postName(id))));
}

function item(alert) {
  const to = alert.valid_to ? localTime(alert.valid_to) : t("openEnded");
  return h("li", {},
    h("button", { type: "button", class: "alert-item" + (alert.id === alerts.openId ? " selected" : ""),
      "data-id": alert.id, "aria-current": alert.id === alerts.openId ? "true" : null,
      onclick: () => alerts.onOpen?.(alert.id) },
    h("span", { class: "tags" }, tv("span", alert.severity, { class: "tag severity-" + alert.severity })),
    h("span", { class: "alert-title" }, titleOf(alert)),
    h("span", { class: "muted small" }, t("alertWindow", { from: localTime(alert.valid_from), to }), " · ",
      where(alert))),
    alert.missions?.length ? h("div", { class: "contacts-of" }, tr("span", "contacts", { class: "small" }),
      contacts(alert.missions)) : null);
}

export function renderAlerts() {
  const groups = Object.fromEntries(STATES.map((s) => [s, []]));
  for (const alert of alerts.list) groups[stateOf(alert, Math.max(alerts.now, Date.now()))].push(alert);
  $("alerts-summary").textContent = t("alertsShown", { inForce: groups.inForce.length,
    upcoming: groups.upcoming.length, ended: groups.ended.length });
  $("alerts-badge").textContent = groups.inForce.length ? String(groups.inForce.length) : "";
  $("alert-list").replaceChildren(...STATES.map((state) => h("section", { class: "alert-group", "data-state": state },
    h("h3", {}, `${t(state)} (${groups[state].length})`),
    groups[state].length ? h("ul", {}, groups[state].sort(order).map(item)) : tr("p", "noAlerts", { class: "muted" }))));
}

// -- a post's alerts -----------------------------------------------------------------------------------------------
let postAsked = 0;

export async function showPostAlerts(feature) {
  const asked = ++postAsked; // an answer for a post no longer open is dropped
  const id = feature.properties.id;
  const [lon, lat] = feature.geometry.coordinates;
  const [listed, here] = await Promise.all([api("GET", "/v1/staff/alerts"),
    api("GET", `/v1/alerts?lat=${encodeURIComponent(lat)}&lon=${encodeURIComponent(lon)}`)]);
  if (asked !== postAsked) return;
  const covering = new Set((here.data?.features || []).map((f) => f.id));
  const concerning = (listed.data?.alerts || []).filter((a) => stateOf(a) === "inForce"
    && ((a.missions || []).includes(id) || covering.has(a.id))).sort(order);
  const refer = feature.properties.refer_to;
  $("post-alerts").replaceChildren(tr("h3", "alertsHere"),
    concerning.length ? h("ul", {}, concerning.map((a) => h("li", { "data-alert": a.id },
      tv("span", a.severity, { class: "tag severity-" + a.severity }), " ",
      h("button", { type: "button", class: "link", onclick: () => alerts.onOpen?.(a.id) }, titleOf(a)), " · ",
      h("span", { class: "muted small" }, [(a.missions || []).includes(id) ? t("namesPost") : null,
        covering.has(a.id) ? t("coversPost") : null].filter(Boolean).join(", ")))))
      : tr("p", "noAlertsHere", { class: "muted small" }),
    refer ? h("p", { class: "referral", "data-refer-to": refer }, t("postRefers", { to: postName(refer) })) : null);
}
