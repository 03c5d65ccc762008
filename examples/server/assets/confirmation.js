// The confirmation page (`confirmation?order=NUMBER`): the order's summary and what happens next.
"use strict";

(() => {
  const { api, say, param, t } = Pochi;
  const status = document.getElementById("status");
  const number = param("order");

  async function start() {
    if (!number) {
      say(status, t("order.none_given"), "error");
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
      document.getElementById("thanks").textContent = t("confirmation.thanks_name", { name: first });
      if (order.status === "pending_payment") {
        say(status, t("confirmation.not_paid"), "warn");
        status.append(" ", Pochi.el("a", { href: `pay?order=${encodeURIComponent(order.number)}`, text: t("order.pay_now") }));
      }
    } catch (error) {
      say(status, error.status === 404 ? t("order.not_found") : error.message, "error");
    }
  }

  Pochi.ready.then(start);
})();
