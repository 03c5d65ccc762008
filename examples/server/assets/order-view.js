// Shows an order as the tracking API gives it (personal data masked): items, totals, delivery,
// timeline. Used by the confirmation and tracking pages.
"use strict";

window.PochiOrder = (() => {
  const { el, money, when, statusLabel, statusBadge } = Pochi;

  function items(order) {
    return el(
      "ul",
      { class: "lines" },
      order.items.map((item) =>
        el(
          "li",
          { class: "line" },
          el("span", { class: "name", text: `${item.quantity} × ${item.name}` }),
          el("span", { text: money(item.lineTotal) }),
        ),
      ),
    );
  }

  function totals(order) {
    const fee = order.deliveryFee && /^0*(\.0*)?$/.test(order.deliveryFee.amount) ? "Free" : money(order.deliveryFee);
    return el(
      "dl",
      { class: "totals" },
      el("dt", { text: "Subtotal" }),
      el("dd", { text: money(order.subtotal) }),
      el("dt", { text: "Delivery" }),
      el("dd", { text: fee }),
      el("dt", { class: "total", text: "Total" }),
      el("dd", { class: "total", text: money(order.total) }),
    );
  }

  function delivery(order) {
    return el("p", { class: "small muted" }, `Delivery to ${order.area}, ${order.county}, for ${order.customerName} (${order.customerPhone}).`);
  }

  function timeline(order) {
    return el(
      "ol",
      { class: "timeline", id: "timeline" },
      order.timeline.map((entry) =>
        el(
          "li",
          { dataset: { status: entry.status } },
          el("strong", { text: statusLabel(entry.status) }),
          el("time", { datetime: entry.at, text: when(entry.at) }),
          entry.note ? el("span", { class: "small", text: entry.note }) : null,
        ),
      ),
    );
  }

  function summary(order) {
    return [items(order), totals(order), delivery(order)];
  }

  return { summary, timeline, statusBadge };
})();
