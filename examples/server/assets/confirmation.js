// The confirmation page (`confirmation?order=NUMBER`): the order's summary and what happens next.
"use strict";

(() => {
  const { api, say, param } = Pochi;
  const status = document.getElementById("status");
  const number = param("order");

  async function start() {
    if (!number) {
      say(status, "No order was given. Find your order on the tracking page.", "error");
      return;
    }
    try {
      const order = await api(`track/${encodeURIComponent(number)}`);
      document.getElementById("confirmation").hidden = false;
      document.getElementById("order-number").textContent = order.number;
      document.getElementById("order-status").replaceChildren(PochiOrder.statusBadge(order.status));
      document.getElementById("summary").replaceChildren(...PochiOrder.summary(order));
      document.getElementById("track-link").href = `track?order=${encodeURIComponent(order.number)}`;
      const first = order.customerName.split(" ")[0];
      document.getElementById("thanks").textContent = `Thank you, ${first}!`;
      if (order.status === "pending_payment") {
        say(status, "We have not received your payment yet.", "warn");
        status.append(" ", Pochi.el("a", { href: `pay?order=${encodeURIComponent(order.number)}`, text: "Pay now" }));
      }
    } catch (error) {
      say(status, error.status === 404 ? "We could not find that order. Check the order number." : error.message, "error");
    }
  }

  start();
})();
