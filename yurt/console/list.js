// The work list: posts grouped by country, searchable in en/kk/ru, filtered by type, status and what is missing
// (the quality report, GET /v1/missions/quality), with counts, so a consul sees "12 posts lack hours".
"use strict";

import { $, api, countryName, h, session, t, v } from "./core.js";

const TYPES = ["embassy", "consulate_general", "consulate", "honorary_consulate", "permanent_mission",
  "diplomatic_mission"];
const STATUSES = ["open", "limited", "suspended", "closed"];
export const CHECKS = ["phone", "hours", "emergency", "districts", "building", "old_sources"];

export const work = { missions: [], missing: new Map(), openId: null, onOpen: null };

export async function loadWork() {
  const [missions, quality] = await Promise.all([api("GET", "/v1/missions"), api("GET", "/v1/missions/quality")]);
  work.missions = missions.data?.features || [];
  work.missing = new Map((quality.data?.posts || []).map((p) => [p.id, p.missing]));
  renderFilters();
  renderList();
}

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

function fillSelect(select, values, counts) {
  const chosen = select.value;
  select.replaceChildren(option("", t("any"), chosen),
    ...values.map((value) => option(value, counts ? `${v(value)} (${counts[value] ?? 0})` : v(value), chosen)));
}

// Counts of each missing field among the posts the other filters keep, so the numbers match the list.
export function renderFilters() {
  fillSelect($("filter-type"), TYPES);
  fillSelect($("filter-status"), STATUSES);
  const kept = work.missions.filter((f) => matches(f, { missing: "" }));
  const counts = Object.fromEntries(CHECKS.map((c) =>
    [c, kept.filter((f) => (work.missing.get(f.properties.id) || []).includes(c)).length]));
  fillSelect($("filter-missing"), CHECKS, counts);
}

function haystack(p) {
  const names = [p.name.en, p.name.kk, p.name.ru, p.city, p.id, p.host_country,
    ...["en", "kk", "ru"].map((lang) => countryName(p.host_country, lang))];
  return names.join(" ").toLocaleLowerCase();
}

function matches(feature, override) {
  const p = feature.properties;
  const q = $("search").value.trim().toLocaleLowerCase();
  const type = $("filter-type").value;
  const status = $("filter-status").value;
  const missing = override?.missing ?? $("filter-missing").value;
  return (!q || q.split(/\s+/).every((word) => haystack(p).includes(word)))
    && (!type || p.type === type) && (!status || p.status === status)
    && (!missing || (work.missing.get(p.id) || []).includes(missing));
}

export function renderList() {
  const shown = work.missions.filter((f) => matches(f));
  const missing = $("filter-missing").value;
  $("summary").textContent = missing ? t("lacking", { n: shown.length, what: v(missing) })
    : t("shown", { n: shown.length });
  const groups = new Map();
  for (const f of shown) {
    const country = countryName(f.properties.host_country);
    if (!groups.has(country)) groups.set(country, []);
    groups.get(country).push(f);
  }
  const collator = new Intl.Collator(session.lang);
  const sections = [...groups.keys()].sort(collator.compare).map((country) => {
    const posts = groups.get(country).sort((a, b) => collator.compare(a.properties.city, b.properties.city));
    return h("section", { class: "country" }, h("h3", {}, `${country} (${posts.length})`),
      h("ul", {}, posts.map(item)));
  });
  $("missions").replaceChildren(...(sections.length ? sections : [h("p", { class: "muted" }, t("noPosts"))]));
}

function item(feature) {
  const p = feature.properties;
  const gaps = work.missing.get(p.id) || [];
  return h("li", {},
    h("button", { type: "button", class: "post" + (p.id === work.openId ? " selected" : ""), "data-id": p.id,
      "aria-current": p.id === work.openId ? "true" : null, onclick: () => work.onOpen?.(p.id) },
    h("span", { class: "post-name" }, `${p.city} · ${p.name[session.lang] || p.name.en}`),
    h("span", { class: "tags" }, h("span", { class: "tag" }, v(p.type)),
      p.status !== "open" ? h("span", { class: "tag status-" + p.status }, v(p.status)) : null,
      gaps.map((gap) => h("span", { class: "tag gap", "data-gap": gap }, "− " + v(gap))))));
}

export function wireList() {
  for (const id of ["search", "filter-type", "filter-status"]) {
    $(id).addEventListener("input", () => { renderFilters(); renderList(); });
  }
  $("filter-missing").addEventListener("input", renderList);
}
