// Shared by the console's modules: building DOM (textContent and attributes only, never innerHTML, so data
// cannot inject markup), the interface language, and same-origin API calls with the signed-in token.
"use strict";

import { LANGUAGES, STRINGS, VALUES } from "./strings.js";

export const $ = (id) => document.getElementById(id);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// -- language: the staff member's choice, remembered in localStorage ----------------------------------------------
function initialLanguage() {
  const saved = localStorage.getItem("yurt.lang");
  if (saved in LANGUAGES) return saved;
  const browser = (navigator.language || "en").slice(0, 2);
  return browser in LANGUAGES ? browser : "en";
}

export const session = { token: sessionStorage.getItem("yurt.token"), lang: initialLanguage(), me: null,
  onExpired: null };

export function t(key, vars) {
  let text = STRINGS[session.lang]?.[key] ?? STRINGS.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

// A value of a closed list (type, status, resolution...) as staff read it.
export const v = (value) => VALUES[session.lang]?.[value] ?? VALUES.en[value] ?? String(value);

export function setLanguage(lang) {
  session.lang = lang in LANGUAGES ? lang : "en";
  localStorage.setItem("yurt.lang", session.lang);
  document.documentElement.lang = session.lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  for (const el of document.querySelectorAll("[data-value]")) el.textContent = v(el.dataset.value);
}

// A label whose text follows the language.
export const tr = (tag, key, attrs) => h(tag, { ...(attrs || {}), "data-i18n": key }, t(key));
export const tv = (tag, value, attrs) => h(tag, { ...(attrs || {}), "data-value": value }, v(value));

// Country names in the interface language (the browser's own CLDR data: no request).
export function countryName(code, lang = session.lang) {
  try {
    return new Intl.DisplayNames([lang], { type: "region" }).of(code) || code;
  } catch (e) {
    return code;
  }
}

export function localTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(session.lang, { dateStyle: "medium", timeStyle: "short" });
}

// -- API ------------------------------------------------------------------------------------------------------
export async function api(method, path, body, headers) {
  const init = { method, headers: { Authorization: "Bearer " + session.token, ...(headers || {}) } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (response.status === 401 && session.onExpired) session.onExpired(data?.detail);
  return { status: response.status, etag: response.headers.get("ETag"), data };
}

// The local calendar day as YYYY-MM-DD (the Swedish locale writes dates in ISO order).
export const today = () => new Date().toLocaleDateString("sv-SE");
