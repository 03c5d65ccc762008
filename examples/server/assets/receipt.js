// The printable receipt (`receipt?order=NUMBER`): the shop's name and contacts, the order's
// number, lines and totals, its M-Pesa receipts and the date it was paid. Only a paid order has
// one.
"use strict";

(() => {
  const { api, say, param, when } = Pochi;
  const status = document.getElementById("status");
  const number = param("order");
  const $ = (id) => document.getElementById(id);

  async function start() {
    if (!number) {
      say(status, "No order was given. Find your order on the tracking page.", "error");
      return;
    }
    let order;
    let settings;
    try {
      [order, settings] = await Promise.all([api(`track/${encodeURIComponent(number)}`), Pochi.settings()]);
    } catch (error) {
      say(status, error.status === 404 ? "We could not find that order. Check the order number." : error.message, "error");
      return;
    }
    if (!order.receipts || order.receipts.length === 0) {
      say(status, "This order has no payment yet, so there is no receipt. You can pay it from the tracking page.", "warn");
      return;
    }
    const paid = order.timeline.find((entry) => entry.status === "paid");
    $("shop-name").textContent = settings.storeName;
    $("shop-contacts").textContent = [settings.contactPhone, settings.contactEmail].filter(Boolean).join(" · ");
    $("order-number").textContent = order.number;
    $("paid-at").textContent = when(paid ? paid.at : order.placedAt);
    $("customer").textContent = order.customerName;
    $("mpesa-receipts").textContent = order.receipts.join(", ");
    $("lines").replaceChildren(PochiOrder.items(order), PochiOrder.totals(order));
    $("track-link").href = `track?order=${encodeURIComponent(order.number)}`;
    $("print").addEventListener("click", () => window.print());
    $("receipt").hidden = false;
    document.title = `Receipt ${order.number} · ${settings.storeName}`;
  }

  start();
})();
