// The checkout page: the cart (quantities, removal), the customer's delivery details, the
// delivery fee for the chosen county and area, and placing the order. The server prices the
// order; the totals shown here are the same rule applied to the catalogue's prices. Where the
// shop takes payment on delivery, the customer chooses it here or M-Pesa.
"use strict";

(() => {
  const { api, all, cart, el, say, money, toCents, fromCents, showError, clearErrors, newKey, t } = Pochi;
  const status = document.getElementById("status");
  const form = document.getElementById("form");
  const submit = document.getElementById("place-order");
  const county = document.getElementById("county");
  const area = document.getElementById("area");
  const DETAILS_KEY = "pochi.customer.v1";
  const FIELDS = ["name", "phone", "county", "area", "address", "notes", "language"];
  let settings = null;
  let stock = new Map();
  let lastAttempt = null; // { body, key }: a retry of the same checkout reuses its key.

  function currency() {
    const line = cart.lines()[0];
    return (line && line.price && line.price.currency) || (settings && settings.currency) || "KES";
  }

  /** The delivery fee rule of the API (`DeliveryFees::fee_for`), for display. */
  function deliveryFee(subtotal) {
    if (!settings || !county.value) return null;
    const fees = settings.delivery;
    if (fees.freeDeliveryOver && subtotal >= toCents(fees.freeDeliveryOver.amount)) return 0n;
    const rule = fees.counties.find((c) => c.county.toLowerCase() === county.value.toLowerCase());
    if (!rule) return toCents(fees.defaultFee.amount);
    const wanted = area.value.trim().toLowerCase();
    const match = rule.areas.find((a) => a.area.trim().toLowerCase() === wanted);
    return toCents((match || rule).fee.amount);
  }

  function renderTotals() {
    const lines = cart.lines();
    const cur = currency();
    const subtotal = lines.reduce((sum, l) => sum + toCents(l.price.amount) * BigInt(l.quantity), 0n);
    const fee = deliveryFee(subtotal);
    document.getElementById("subtotal").textContent = money({ amount: fromCents(subtotal), currency: cur });
    document.getElementById("delivery-fee").textContent =
      fee === null ? t("checkout.choose_county_for_fee") : fee === 0n ? t("totals.free") : money({ amount: fromCents(fee), currency: cur });
    document.getElementById("total").textContent = money({ amount: fromCents(subtotal + (fee || 0n)), currency: cur });
    const free = document.getElementById("free-delivery");
    const threshold = settings && settings.delivery.freeDeliveryOver;
    free.hidden = !threshold || subtotal >= toCents(threshold.amount);
    if (threshold) free.textContent = t("checkout.free_delivery_over", { amount: money(threshold) });
  }

  function renderCart() {
    const lines = cart.lines();
    document.getElementById("empty").hidden = lines.length > 0;
    document.getElementById("checkout").hidden = lines.length === 0;
    const list = document.getElementById("lines");
    list.replaceChildren(
      ...lines.map((line) => {
        const max = stock.get(line.id);
        const minus = el("button", {
          type: "button",
          class: "secondary",
          "aria-label": t("checkout.one_less", { product: line.name }),
          text: "−",
          onclick: () => change(line.id, line.quantity - 1),
        });
        const plus = el("button", {
          type: "button",
          class: "secondary",
          "aria-label": t("checkout.one_more", { product: line.name }),
          text: "+",
          disabled: max !== null && max !== undefined && line.quantity >= max,
          onclick: () => change(line.id, line.quantity + 1),
        });
        return el(
          "li",
          { class: "line", dataset: { productId: line.id } },
          el("span", { class: "name" }, el("strong", { text: line.name }), el("br"), el("span", { class: "muted small", text: money(line.price) })),
          el("span", { class: "quantity" }, minus, el("output", { "aria-label": t("checkout.quantity"), text: String(line.quantity) }), plus),
          el("button", { type: "button", class: "link", text: t("checkout.remove"), onclick: () => change(line.id, 0) }),
        );
      }),
    );
    renderTotals();
  }

  function change(id, quantity) {
    cart.set(id, Math.max(0, Math.min(999, quantity)));
    renderCart();
  }

  function saveDetails() {
    const details = {};
    FIELDS.filter((f) => f !== "notes").forEach((f) => {
      details[f] = form.elements[f].value;
    });
    try {
      localStorage.setItem(DETAILS_KEY, JSON.stringify(details));
    } catch (_) {
      // Not remembered; no harm.
    }
  }

  function restoreDetails() {
    try {
      const details = JSON.parse(localStorage.getItem(DETAILS_KEY) || "{}");
      FIELDS.filter((f) => f !== "language").forEach((f) => {
        if (typeof details[f] === "string" && !form.elements[f].value) form.elements[f].value = details[f];
      });
    } catch (_) {
      // Nothing remembered.
    }
    // The customer's messages come in the language they read the shop in, unless they choose.
    form.elements.language.value = Pochi.language;
  }

  /** Whether the customer chose to pay on delivery (offered only when the shop takes it). */
  function paysOnDelivery() {
    return !document.getElementById("pay-choice").hidden && form.elements.payWith.value === "pay_on_delivery";
  }

  function placeLabel() {
    return t(paysOnDelivery() ? "checkout.place_order_on_delivery" : "checkout.place_order");
  }

  function missing() {
    const errors = [];
    for (const field of ["name", "phone", "county", "area", "address"]) {
      if (!form.elements[field].value.trim()) errors.push({ field, message: t(`checkout.missing_${field}`) });
    }
    return errors;
  }

  async function placeOrder(event) {
    event.preventDefault();
    clearErrors(form);
    say(status, "");
    const errors = missing();
    if (errors.length) {
      errors.reverse().forEach((e) => showError(form, e, status));
      return;
    }
    const body = {
      name: form.elements.name.value,
      phone: form.elements.phone.value,
      county: county.value,
      area: area.value,
      address: form.elements.address.value,
      items: cart.lines().map((l) => ({ productId: l.id, quantity: l.quantity })),
    };
    if (form.elements.notes.value.trim()) body.notes = form.elements.notes.value;
    body.language = form.elements.language.value === "sw" ? "sw" : "en";
    const text = JSON.stringify(body);
    const key = lastAttempt && lastAttempt.body === text ? lastAttempt.key : newKey();
    lastAttempt = { body: text, key };
    saveDetails();
    submit.disabled = true;
    submit.textContent = t("checkout.placing");
    try {
      const order = await api("orders", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": key },
        context: (details) => {
          const line = cart.lines().find((l) => l.id === details.productId);
          return line ? { product: line.name, available: details.available } : {};
        },
      });
      cart.clear();
      const method = paysOnDelivery() ? "&method=pay_on_delivery" : "";
      location.assign(`pay?order=${encodeURIComponent(order.number)}${method}`);
    } catch (error) {
      submit.disabled = false;
      submit.textContent = placeLabel();
      if (error.code === "out_of_stock") {
        await refreshCatalogue();
        say(status, `${error.message} ${t("checkout.cart_shows_left")}`, "error");
        status.scrollIntoView({ block: "nearest" });
      } else {
        showError(form, error, status);
      }
    }
  }

  async function refreshCatalogue() {
    try {
      const products = await all("products");
      stock = new Map(products.map((p) => [p.id, p.stock]));
      const before = cart.lines().length;
      cart.refresh(products);
      if (cart.lines().length < before) {
        say(status, t("checkout.removed"), "warn");
      }
    } catch (error) {
      say(status, error.message, "error");
    }
    renderCart();
  }

  async function start() {
    renderCart();
    try {
      settings = await Pochi.settings();
      settings.counties.forEach((name) => county.append(el("option", { value: name, text: name })));
      document.getElementById("pay-choice").hidden = !(settings.paymentMethods || []).includes("pay_on_delivery");
    } catch (error) {
      say(status, error.message, "error");
    }
    restoreDetails();
    renderCart();
    await refreshCatalogue();
  }

  county.addEventListener("change", renderTotals);
  area.addEventListener("input", renderTotals);
  form.addEventListener("input", (event) => {
    const name = event.target.name;
    if (!name) return;
    event.target.removeAttribute("aria-invalid");
    const error = form.querySelector(`[data-error-for="${name}"]`);
    if (error) error.hidden = true;
  });
  form.addEventListener("submit", placeOrder);
  form.addEventListener("change", (event) => {
    if (event.target.name === "payWith") submit.textContent = placeLabel();
  });
  // A switch of the page's language reloads it: what was typed so far comes back.
  window.addEventListener("pochi:language", saveDetails);
  Pochi.ready.then(start);
})();
