// Shows an order as the tracking API gives it (personal data masked): items, totals, M-Pesa
// receipts, delivery, timeline. Used by the confirmation, tracking and receipt pages.
"use strict";

window.PochiOrder = (() => {
  const { el, money, when, statusLabel, statusBadge, t, tNodes } = Pochi;

  /**
   * The shop's automatic timeline notes (pochi-core writes them in English), as patterns and
   * the catalogue texts that say them in the page's language; an admin's own note is shown as
   * written.
   */
  const NOTES = [
    [/^Order placed, waiting for payment$/, "timeline.placed"],
    [/^Payment received$/, "timeline.paid"],
    [/^Payment received \((.+)\)$/, "timeline.paid_receipt", ["receipt"]],
    [/^Order is being prepared$/, "timeline.processing"],
    [/^Order dispatched$/, "timeline.dispatched"],
    [/^Order delivered$/, "timeline.delivered"],
    [/^Order cancelled$/, "timeline.cancelled"],
    [/^Cancelled: not paid in time$/, "timeline.expired"],
    [/^Part payment: received (.+) of (.+)$/, "timeline.part_payment", ["received", "total"]],
    [/^Overpayment: received (.+) for (.+)$/, "timeline.overpayment", ["received", "total"]],
    [/^Payment of (.+) received after cancellation$/, "timeline.paid_after_cancel", ["amount"]],
  ];

  function note(text) {
    for (const [pattern, key, names = []] of NOTES) {
      const match = pattern.exec(text);
      if (match) return t(key, Object.fromEntries(names.map((name, i) => [name, match[i + 1]])), text);
    }
    return text;
  }

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
    const fee = order.deliveryFee && /^0*(\.0*)?$/.test(order.deliveryFee.amount) ? t("totals.free") : money(order.deliveryFee);
    return el(
      "dl",
      { class: "totals" },
      el("dt", { text: t("totals.subtotal") }),
      el("dd", { text: money(order.subtotal) }),
      el("dt", { text: t("totals.delivery") }),
      el("dd", { text: fee }),
      el("dt", { class: "total", text: t("totals.total") }),
      el("dd", { class: "total", text: money(order.total) }),
    );
  }

  function delivery(order) {
    const vars = { area: order.area, county: order.county, name: order.customerName, phone: order.customerPhone };
    return el("p", { class: "small muted" }, t("order.delivery_to", vars));
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
          entry.note ? el("span", { class: "small", text: note(entry.note) }) : null,
        ),
      ),
    );
  }

  /** The M-Pesa receipts of the payments that went through, and a link to a printable receipt. */
  function receipts(order) {
    if (!order.receipts || order.receipts.length === 0) return null;
    const codes = order.receipts.flatMap((code, i) => [i ? ", " : "", el("strong", { class: "receipt-code", text: code })]);
    return el(
      "p",
      { class: "receipts", id: "receipts" },
      order.receipts.length === 1 ? t("order.receipt") : t("order.receipts"),
      " ",
      ...codes,
      " · ",
      el("a", { href: `receipt?order=${encodeURIComponent(order.number)}`, id: "receipt-link", text: t("order.printable_receipt") }),
    );
  }

  /** Money the shop owes back or paid back. */
  function refunds(order) {
    if (!order.refunds || order.refunds.length === 0) return null;
    return el(
      "ul",
      { class: "refunds", id: "refunds" },
      order.refunds.map((refund) =>
        el(
          "li",
          { dataset: { status: refund.status } },
          refund.status === "refunded"
            ? refund.reference
              ? tNodes("order.refunded_code", { amount: money(refund.amount), reference: el("strong", { class: "receipt-code", text: refund.reference }) })
              : t("order.refunded", { amount: money(refund.amount) })
            : t(refund.status === "sending" ? "order.refund_sending" : "order.refund_owed", { amount: money(refund.amount) }),
        ),
      ),
    );
  }

  function summary(order) {
    return [items(order), totals(order), receipts(order), refunds(order), delivery(order)].filter(Boolean);
  }

  return { summary, timeline, statusBadge, items, totals };
})();
