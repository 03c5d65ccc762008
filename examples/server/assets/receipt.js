// The printable receipt (`receipt?order=NUMBER`): the shop's name and contacts, the order's
// number, lines and totals, its M-Pesa receipts and the date it was paid. Only a paid order has
// one.
"use strict";

(() => {
  const { api, say, param, when, t } = Pochi;
  const status = document.getElementById("status");
  const number = param("order");
  const $ = (id) => document.getElementById(id);

  async function start() {
    if (!number) {
      say(status, t("order.none_given"), "error");
      return;
    }
    let order;
    let settings;
    try {
      [order, settings] = await Promise.all([api(`track/${encodeURIComponent(number)}`), Pochi.settings()]);
    } catch (error) {
      say(status, error.status === 404 ? t("order.not_found") : error.message, "error");
      return;
    }
    if (!order.receipts || order.receipts.length === 0) {
      say(status, t("receipt.none"), "warn");
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
    document.title = t("title.receipt_of", { order: order.number, shop: settings.storeName });
  }

  Pochi.ready.then(start);
})();
