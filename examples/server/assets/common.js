// Shared by every page: the API client, money, the cart, safe DOM building and messages.
// Plain script (no modules, no build step); everything hangs off `window.Pochi`.
"use strict";

window.Pochi = (() => {
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

  const GENERIC = "Something went wrong on our side. Please try again in a moment.";
  const OFFLINE = "We could not reach the shop. Check your connection and try again.";

  /** A sentence a person can read, from the API's `message` (never raw JSON). */
  function friendly(status, code, message, retryAfter) {
    if (code === "rate_limited") {
      const wait = Number(retryAfter);
      return wait > 0
        ? `Too many attempts. Please wait ${wait} seconds and try again.`
        : "Too many attempts. Please wait a moment and try again.";
    }
    if (status >= 500 && status !== 502 && status !== 503) return GENERIC;
    if (typeof message !== "string" || message.trim() === "") {
      return status >= 500 ? GENERIC : "That did not work. Please check and try again.";
    }
    const text = message.trim();
    const sentence = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  }

  /**
   * Calls the API under `api/` (relative, so the pages also work when the shop is mounted under
   * a prefix). Resolves to the parsed JSON body; rejects with an ApiError.
   */
  async function api(path, options = {}) {
    const { method = "GET", body, headers = {}, auth } = options;
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
      throw new ApiError(0, "network", OFFLINE);
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
        friendly(response.status, error.code, error.message, response.headers.get("Retry-After")),
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
      say(fallback, error && error.message ? error.message : GENERIC, "error");
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
    return date.toLocaleString("en-KE", { dateStyle: "medium", timeStyle: "short" });
  }

  const STATUS_LABELS = {
    pending_payment: "Waiting for payment",
    paid: "Paid",
    processing: "Being prepared",
    dispatched: "On its way",
    delivered: "Delivered",
    cancelled: "Cancelled",
  };

  function statusLabel(status) {
    return STATUS_LABELS[status] || String(status).replace(/_/g, " ");
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
    settings()
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
