// Shared by every page: the storefront's language, the API client, money, the cart, safe DOM
// building and messages. Plain script (no modules, no build step); everything hangs off
// `window.Pochi`.
"use strict";

window.Pochi = (() => {
  // ---- Language ------------------------------------------------------------------------------
  // A page with a language switch (`[data-language-switch]`: the storefront) takes its texts
  // from the catalogue `assets/i18n/<language>.json`, which the shop may have edited: elements
  // name their text with `data-i18n="key"` (`data-i18n-placeholder`, `-aria-label`, `-title`
  // for attributes), scripts with `t("key", {placeholder: value})`. Pages without a switch (the
  // admin dashboard) stay English and load no catalogue.

  const LANGUAGES = ["en", "sw"];
  const LANGUAGE_KEY = "pochi.language.v1";
  const translated = document.querySelector("[data-language-switch]") !== null;

  /** The customer's choice on the switch if remembered, else the browser's first language we speak. */
  function guessLanguage() {
    if (!translated) return "en";
    try {
      const chosen = localStorage.getItem(LANGUAGE_KEY);
      if (LANGUAGES.includes(chosen)) return chosen;
    } catch (_) {
      // Storage is off: guess again on every page.
    }
    const preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""];
    for (const tag of preferred) {
      const base = String(tag).split("-")[0].toLowerCase();
      if (LANGUAGES.includes(base)) return base;
    }
    return "en";
  }

  const language = guessLanguage();
  let texts = {};

  /** Whether the catalogue has a text for `key`. */
  function has(key) {
    return Object.prototype.hasOwnProperty.call(texts, key) && typeof texts[key] === "string";
  }

  /** `template` with its `{name}` placeholders filled from `vars`; null if one is missing. */
  function fillIn(template, vars) {
    let complete = true;
    const text = template.replace(/\{(\w+)\}/g, (whole, name) => {
      if (vars && Object.prototype.hasOwnProperty.call(vars, name)) return String(vars[name]);
      complete = false;
      return whole;
    });
    return complete ? text : null;
  }

  /** The catalogue's text for `key`, filled in; `fallback` (else the key) when there is none. */
  function t(key, vars = {}, fallback) {
    const text = has(key) ? fillIn(texts[key], vars) : null;
    if (text !== null) return text;
    return fallback === undefined ? key : fallback;
  }

  /**
   * The text for `key` as a list of strings and nodes, for a sentence with elements inside
   * (`{number}` in bold): `vars` values may be nodes.
   */
  function tNodes(key, vars = {}) {
    const template = has(key) ? texts[key] : key;
    return template
      .split(/(\{\w+\})/)
      .filter((part) => part !== "")
      .map((part) => {
        const name = /^\{(\w+)\}$/.exec(part);
        return name && Object.prototype.hasOwnProperty.call(vars, name[1]) ? vars[name[1]] : part;
      });
  }

  /** Puts the catalogue's texts into the elements (and attributes) under `root` that name one. */
  function translate(root) {
    root.querySelectorAll("[data-i18n]").forEach((node) => {
      if (has(node.dataset.i18n)) node.textContent = t(node.dataset.i18n);
    });
    for (const attribute of ["placeholder", "aria-label", "title"]) {
      root.querySelectorAll(`[data-i18n-${attribute}]`).forEach((node) => {
        const key = node.getAttribute(`data-i18n-${attribute}`);
        if (has(key)) node.setAttribute(attribute, t(key));
      });
    }
  }

  async function fetchCatalogue(lang) {
    const response = await fetch(`assets/i18n/${lang}.json`, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`catalogue ${lang}: ${response.status}`);
    return response.json();
  }

  /** Loads the page's catalogue (English if that fails), translates the page, sets up the switch. */
  async function loadTexts() {
    document.documentElement.lang = language;
    for (const lang of language === "en" ? ["en"] : [language, "en"]) {
      try {
        texts = await fetchCatalogue(lang);
        document.documentElement.lang = lang;
        break;
      } catch (_) {
        // Try the next; with none, the page keeps the English written in its HTML.
      }
    }
    translate(document);
    document.querySelectorAll("[data-language-switch]").forEach((select) => {
      select.value = language;
      select.addEventListener("change", () => {
        if (!LANGUAGES.includes(select.value)) return;
        try {
          localStorage.setItem(LANGUAGE_KEY, select.value);
        } catch (_) {
          // Not remembered: the page still changes now.
        }
        // Pages keep what the customer typed before the reload (see checkout.js).
        window.dispatchEvent(new CustomEvent("pochi:language", { detail: select.value }));
        location.reload();
      });
    });
  }

  /** Resolves once the page's texts are in: page scripts render after it. */
  const ready = translated ? loadTexts() : Promise.resolve();

  // ---- API ---------------------------------------------------------------------------------

  /** An error answer from the API (or no answer), with a message fit to show a customer. */
  class ApiError extends Error {
    constructor(status, code, message, field, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || null;
      this.details = details || null;
    }
  }

  // The dashboard's (English) texts where the page has no catalogue.
  const GENERIC = "Something went wrong on our side. Please try again in a moment.";
  const OFFLINE = "We could not reach the shop. Check your connection and try again.";

  /** The catalogue keys that may say what went wrong, most specific first. */
  function errorKeys(code, field, details) {
    const keys = [];
    if (code === "invalid_input" && field) keys.push(`field.${field}`);
    if (details && details.reason) keys.push(`api.${details.reason}`);
    if (code === "out_of_stock") {
      if (details && details.available === 0) keys.push("api.out_of_stock_sold_out");
      keys.push("api.out_of_stock_product");
    }
    if (code) keys.push(`api.${code}`);
    return keys;
  }

  /**
   * A sentence a person can read about an error answer: the catalogue's text for its code,
   * reason or field (its placeholders filled from `context`, an object or a function of the
   * answer's details), else the API's `message` (never raw JSON).
   */
  function friendly(status, error, retryAfter, context) {
    const { code, message, field, details } = error;
    if (code === "rate_limited") {
      const wait = Number(retryAfter);
      return wait > 0
        ? t("error.rate_limited_wait", { seconds: wait }, `Too many attempts. Please wait ${wait} seconds and try again.`)
        : t("error.rate_limited", {}, "Too many attempts. Please wait a moment and try again.");
    }
    if (status >= 500 && status !== 502 && status !== 503) return t("error.generic", {}, GENERIC);
    const vars = (typeof context === "function" ? context(details || {}) : context) || {};
    for (const key of errorKeys(code, field, details)) {
      const text = t(key, vars, null);
      if (text !== null) return text;
    }
    if (typeof message !== "string" || message.trim() === "") {
      return status >= 500
        ? t("error.generic", {}, GENERIC)
        : t("error.check_and_retry", {}, "That did not work. Please check and try again.");
    }
    const text = message.trim();
    const sentence = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  }

  /**
   * Calls the API under `api/` (relative, so the pages also work when the shop is mounted under
   * a prefix). Resolves to the parsed JSON body; rejects with an ApiError whose message is in
   * the page's language (`context` fills the placeholders of its text, see `friendly`).
   */
  async function api(path, options = {}) {
    const { method = "GET", body, headers = {}, auth, context } = options;
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (auth) {
      init.headers.Authorization = auth;
      // Our own Authorization header is sent anyway; omitting credentials keeps the browser
      // from popping up its own login box on a 401.
      init.credentials = "omit";
    }
    let response;
    try {
      response = await fetch(`api/${path}`, init);
    } catch (_) {
      throw new ApiError(0, "network", t("error.offline", {}, OFFLINE));
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.startsWith("application/json")) {
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(
        response.status,
        error.code || `http_${response.status}`,
        friendly(response.status, error, response.headers.get("Retry-After"), context),
        error.field,
        error.details,
      );
    }
    return data;
  }

  /** Every item of a paginated list (follows `nextCursor`), up to `max` items. */
  async function all(path, options = {}, max = 1000) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const url = `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await api(url, options);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < max);
    return items;
  }

  /** A random key for `Idempotency-Key` (works outside secure contexts too). */
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- Money: decimal strings in, decimal strings out; cents as BigInt, never floats --------

  function toCents(amount) {
    const [whole, fraction = ""] = String(amount).split(".");
    return BigInt(whole || "0") * 100n + BigInt((fraction + "00").slice(0, 2));
  }

  function fromCents(cents) {
    const sign = cents < 0n ? "-" : "";
    const abs = cents < 0n ? -cents : cents;
    const fraction = String(abs % 100n).padStart(2, "0");
    return `${sign}${abs / 100n}.${fraction}`;
  }

  /** `{"amount":"1500.00","currency":"KES"}` → "KES 1,500"; cents shown only when there are some. */
  function money(value) {
    if (!value) return "";
    const [whole, fraction = "00"] = String(value.amount).split(".");
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    const cents = /^0*$/.test(fraction) ? "" : `.${fraction.padEnd(2, "0")}`;
    return `${value.currency} ${grouped}${cents}`;
  }

  // ---- The cart: kept in localStorage, so it survives reloads -------------------------------

  const CART_KEY = "pochi.cart.v1";

  function readCart() {
    try {
      const stored = JSON.parse(localStorage.getItem(CART_KEY) || "[]");
      return Array.isArray(stored)
        ? stored.filter((l) => l && typeof l.id === "string" && Number.isInteger(l.quantity) && l.quantity > 0)
        : [];
    } catch (_) {
      return [];
    }
  }

  function writeCart(lines) {
    try {
      localStorage.setItem(CART_KEY, JSON.stringify(lines));
    } catch (_) {
      // Private mode or a full store: the cart lives for this page only.
    }
    showCartCount();
  }

  const cart = {
    lines: readCart,
    count: () => readCart().reduce((n, l) => n + l.quantity, 0),
    quantityOf: (id) => (readCart().find((l) => l.id === id) || { quantity: 0 }).quantity,
    add(product, quantity = 1) {
      const lines = readCart();
      const line = lines.find((l) => l.id === product.id);
      if (line) {
        line.quantity += quantity;
        line.name = product.name;
        line.price = product.price;
        line.image = product.image;
      } else {
        lines.push({ id: product.id, name: product.name, price: product.price, image: product.image, quantity });
      }
      writeCart(lines);
    },
    set(id, quantity) {
      const lines = readCart()
        .map((l) => (l.id === id ? { ...l, quantity } : l))
        .filter((l) => l.quantity > 0);
      writeCart(lines);
    },
    /** Replaces names and prices by the catalogue's; drops what is no longer sold. */
    refresh(products) {
      const byId = new Map(products.map((p) => [p.id, p]));
      const lines = readCart()
        .filter((l) => byId.has(l.id))
        .map((l) => {
          const p = byId.get(l.id);
          return { ...l, name: p.name, price: p.price, image: p.image };
        });
      writeCart(lines);
      return lines;
    },
    clear: () => writeCart([]),
  };

  function showCartCount() {
    const n = cart.count();
    document.querySelectorAll("[data-cart-count]").forEach((el) => {
      el.textContent = String(n);
    });
  }

  // ---- DOM -----------------------------------------------------------------------------------

  /** Builds an element; text goes in as text, never as HTML. */
  function el(tag, attributes = {}, ...children) {
    return fill(document.createElement(tag), attributes, children);
  }

  /** Builds an SVG element (a chart's `rect`, `text`, `title` …) the way `el` builds HTML. */
  function svg(tag, attributes = {}, ...children) {
    return fill(document.createElementNS("http://www.w3.org/2000/svg", tag), attributes, children);
  }

  function fill(node, attributes, children) {
    for (const [name, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "class") node.setAttribute("class", value);
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Shows a message in `container` (`kind`: "error", "ok", "warn" or ""), or hides it. */
  function say(container, text, kind = "") {
    if (!container) return;
    container.textContent = text || "";
    container.className = `message ${kind}`.trim();
    container.hidden = !text;
  }

  /** Shows an API error beside the field it names, else in `fallback`. */
  function showError(form, error, fallback) {
    const field = error && error.field ? String(error.field) : "";
    const target = field && form ? form.querySelector(`[data-error-for="${cssEscape(field)}"]`) : null;
    if (target) {
      target.textContent = error.message;
      target.hidden = false;
      const input = form.querySelector(`[name="${cssEscape(field)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      say(fallback, "");
    } else {
      say(fallback, error && error.message ? error.message : t("error.generic", {}, GENERIC), "error");
    }
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((e) => {
      e.textContent = "";
      e.hidden = true;
    });
    form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  }

  function cssEscape(text) {
    return window.CSS && CSS.escape ? CSS.escape(text) : text.replace(/["\\]/g, "\\$&");
  }

  function param(name) {
    return new URLSearchParams(location.search).get(name);
  }

  function when(iso) {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return "";
    return date.toLocaleString(language === "sw" ? "sw-KE" : "en-KE", { dateStyle: "medium", timeStyle: "short" });
  }

  /** The dashboard's status names; the storefront's come from the catalogue. */
  const STATUS_LABELS = {
    pending_payment: "Waiting for payment",
    paid: "Paid",
    processing: "Being prepared",
    dispatched: "On its way",
    delivered: "Delivered",
    cancelled: "Cancelled",
  };

  function statusLabel(status) {
    return t(`status.${status}`, {}, STATUS_LABELS[status] || String(status).replace(/_/g, " "));
  }

  function statusBadge(status, label) {
    return el("span", { class: `status status-${status}`, dataset: { status }, text: label || statusLabel(status) });
  }

  function productImage(image, alt, className) {
    if (image) {
      const path = String(image).split("/").map(encodeURIComponent).join("/");
      return el("img", { class: className, src: `api/media/${path}`, alt, loading: "lazy" });
    }
    return el("div", { class: className, role: "img", "aria-label": alt });
  }

  // ---- Public settings (store name, counties, methods), fetched once per page ---------------

  let settingsPromise = null;
  function settings() {
    if (!settingsPromise) {
      settingsPromise = api("settings");
      settingsPromise.catch(() => {
        settingsPromise = null;
      });
    }
    return settingsPromise;
  }

  function start() {
    showCartCount();
    window.addEventListener("storage", (event) => {
      if (event.key === CART_KEY) showCartCount();
    });
    ready
      .then(settings)
      .then((s) => {
        document.querySelectorAll("[data-store-name]").forEach((e) => {
          e.textContent = s.storeName;
        });
        if (document.title.includes("Pochi")) document.title = document.title.replace("Pochi", s.storeName);
      })
      .catch(() => {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  return {
    language,
    ready,
    t,
    tNodes,
    has,
    ApiError,
    api,
    all,
    newKey,
    toCents,
    fromCents,
    money,
    cart,
    el,
    svg,
    say,
    showError,
    clearErrors,
    param,
    when,
    statusLabel,
    statusBadge,
    productImage,
    settings,
  };
})();
