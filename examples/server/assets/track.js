// The tracking page (`track?order=NUMBER`): the order's status and timeline, refreshed while
// the page is open.
"use strict";

(() => {
  const { api, say, param, when, clearErrors, showError, t, money } = Pochi;
  const form = document.getElementById("form");
  const input = document.getElementById("order");
  const status = document.getElementById("status");
  const REFRESH_MS = 15000;
  let timer = null;

  async function show(number, quiet) {
    clearTimeout(timer);
    try {
      const order = await api(`track/${encodeURIComponent(number)}`);
      say(status, "");
      document.getElementById("result").hidden = false;
      document.getElementById("order-number").textContent = order.number;
      document.getElementById("order-status").replaceChildren(PochiOrder.statusBadge(order.status));
      document.getElementById("placed-at").textContent = when(order.placedAt);
      document.getElementById("timeline-wrap").replaceChildren(PochiOrder.timeline(order));
      document.getElementById("summary").replaceChildren(...PochiOrder.summary(order));
      const verifying = order.status === "pending_payment" && order.awaitingVerification;
      document.getElementById("verifying").hidden = !verifying;
      // Paying on delivery: nothing to pay now, the rider collects it.
      const onDelivery = order.payingOnDelivery && !["delivered", "cancelled"].includes(order.status);
      const onDeliveryNote = document.getElementById("on-delivery");
      onDeliveryNote.hidden = !onDelivery;
      if (onDelivery) onDeliveryNote.textContent = t("track.on_delivery", { amount: money(order.total) });
      document.getElementById("pay-now").hidden = order.status !== "pending_payment" || verifying || order.payingOnDelivery;
      document.getElementById("pay-link").href = `pay?order=${encodeURIComponent(order.number)}`;
      if (!["delivered", "cancelled"].includes(order.status)) {
        timer = setTimeout(() => show(number, true), REFRESH_MS);
      }
    } catch (error) {
      if (quiet) return;
      document.getElementById("result").hidden = true;
      if (error.status === 404) {
        showError(form, { field: "order", message: t("track.not_found") }, status);
      } else if (error.status === 422) {
        showError(form, { field: "order", message: t("track.not_a_number") }, status);
      } else {
        say(status, error.message, "error");
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const number = input.value.trim();
    if (!number) {
      showError(form, { field: "order", message: t("track.missing") }, status);
      return;
    }
    const url = new URL(location.href);
    url.searchParams.set("order", number);
    history.replaceState(null, "", url);
    show(number, false);
  });

  const given = param("order");
  if (given) {
    input.value = given;
    Pochi.ready.then(() => show(given, false));
  }
})();
