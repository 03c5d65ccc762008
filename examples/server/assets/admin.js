// The admin dashboard: a login form whose credentials go out as HTTP Basic on every admin call
// (kept in sessionStorage, so closing the tab logs out), then orders (filters, details,
// payments, status moves, manual-code verification), stats, customers, products (with image
// upload), the messages sent to customers and the owner (with a retry for dead ones) and settings.
"use strict";

(() => {
  const { api, el, svg, say, money, when, statusBadge, statusLabel, showError, clearErrors, productImage, fromCents, toCents, newKey } = Pochi;
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const AUTH_KEY = "pochi.admin.v1";

  // Where an admin may move an order from each status. The server's lifecycle decides; this
  // only picks the buttons worth showing. An order paid on delivery may also be prepared while
  // it waits for its cash (offered once its details show the attempt), and cancelled while
  // dispatched and unpaid (refused at the door).
  const NEXT = {
    pending_payment: ["cancelled"],
    paid: ["processing", "cancelled"],
    processing: ["dispatched", "cancelled"],
    dispatched: ["delivered"],
    delivered: [],
    cancelled: [],
  };

  // ---- Auth --------------------------------------------------------------------------------

  function basic(user, password) {
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    return `Basic ${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))}`;
  }

  function auth() {
    try {
      return sessionStorage.getItem(AUTH_KEY);
    } catch (_) {
      return null;
    }
  }

  async function admin(path, options = {}) {
    const credentials = auth();
    if (!credentials) {
      showLogin("");
      throw new Pochi.ApiError(401, "unauthorized", "Please log in.");
    }
    try {
      return await api(path, { ...options, auth: credentials });
    } catch (error) {
      if (error.status === 401) showLogin("Your session ended. Please log in again.");
      throw error;
    }
  }

  /** Every item of an admin list (all its pages). */
  async function adminAll(path) {
    try {
      return await Pochi.all(path, { auth: auth() });
    } catch (error) {
      if (error.status === 401) showLogin("Your session ended. Please log in again.");
      throw error;
    }
  }

  function showLogin(message) {
    try {
      sessionStorage.removeItem(AUTH_KEY);
    } catch (_) {
      // Nothing stored.
    }
    $("dashboard").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    say(status, message, message ? "warn" : "");
  }

  async function login(event) {
    event.preventDefault();
    const form = $("login");
    clearErrors(form);
    say(status, "");
    const user = form.elements.user.value.trim();
    const password = form.elements.password.value;
    if (!user || !password) {
      showError(form, { field: "login", message: "Enter your user name and password." }, status);
      return;
    }
    $("login-submit").disabled = true;
    try {
      const credentials = basic(user, password);
      await api("admin/stats", { auth: credentials });
      sessionStorage.setItem(AUTH_KEY, credentials);
      form.elements.password.value = "";
      enter();
    } catch (error) {
      const message = error.status === 401 ? "Wrong user name or password." : error.message;
      showError(form, { field: "login", message }, status);
    } finally {
      $("login-submit").disabled = false;
    }
  }

  function enter() {
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("logout").hidden = false;
    openTab(location.hash.slice(1) || "orders");
    Pochi.settings()
      .then((s) => showAccountBanner((s.paymentMethods || []).includes("manual"), s.mpesaAccount))
      .catch(() => {});
  }

  /** Warns a shop paid by hand that customers are not told where to pay. */
  let paidByHand = false;
  function showAccountBanner(manual, account) {
    paidByHand = manual;
    $("account-banner").hidden = !(manual && !account);
  }

  // ---- Tabs --------------------------------------------------------------------------------

  const loaders = {
    orders: () => loadOrders(true),
    stats: loadStats,
    customers: () => loadCustomers(true),
    messages: () => loadMessages(true),
    refunds: () => loadRefunds(true),
    reviews: () => loadReviews(true),
    products: loadProducts,
    settings: loadSettings,
  };

  function openTab(name) {
    if (!loaders[name]) name = "orders";
    document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll("[data-panel]").forEach((p) => {
      p.hidden = p.dataset.panel !== name;
    });
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
    say(status, "");
    loaders[name]().catch((error) => say(status, error.message, "error"));
  }

  // ---- Orders ------------------------------------------------------------------------------

  let ordersCursor = null;

  function orderFilters() {
    const form = $("order-filters");
    const query = new URLSearchParams();
    for (const name of ["status", "phone", "from", "to", "q"]) {
      const value = form.elements[name].value.trim();
      if (value) query.set(name, value);
    }
    return query;
  }

  async function loadOrders(fresh) {
    const form = $("order-filters");
    clearErrors(form);
    if (fresh) ordersCursor = null;
    const query = orderFilters();
    query.set("limit", "20");
    if (ordersCursor) query.set("cursor", ordersCursor);
    let page;
    try {
      page = await admin(`admin/orders?${query}`);
    } catch (error) {
      if (error.status !== 401) showError(form, error, status);
      return;
    }
    const list = $("orders");
    if (fresh) list.replaceChildren();
    page.items.forEach((order) => list.append(orderCard(order)));
    ordersCursor = page.nextCursor;
    $("orders-more").hidden = !ordersCursor;
    $("orders-empty").hidden = list.children.length > 0;
  }

  /**
   * Downloads the orders the filters select as CSV. The admin's credentials travel in a header,
   * which a plain link cannot send, so the file is fetched and handed over as a Blob URL.
   */
  async function exportOrders() {
    const form = $("order-filters");
    clearErrors(form);
    const credentials = auth();
    if (!credentials) {
      showLogin("");
      return;
    }
    const button = $("orders-export");
    button.disabled = true;
    try {
      let response;
      try {
        response = await fetch(`api/admin/orders/export.csv?${orderFilters()}`, {
          headers: { Accept: "text/csv, application/json", Authorization: credentials },
          credentials: "omit",
        });
      } catch (_) {
        say(status, "We could not reach the shop. Check your connection and try again.", "error");
        return;
      }
      if (response.status === 401) {
        showLogin("Your session ended. Please log in again.");
        return;
      }
      if (!response.ok) {
        let error = {};
        try {
          error = (await response.json()).error || {};
        } catch (_) {
          error = {};
        }
        const message = error.message ? `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.` : "The export did not work. Please try again.";
        showError(form, new Pochi.ApiError(response.status, error.code, message, error.field), status);
        return;
      }
      const blob = await response.blob();
      const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
      const link = el("a", { href: URL.createObjectURL(blob), download: named ? named[1] : "orders.csv", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    } finally {
      button.disabled = false;
    }
  }

  function orderCard(order) {
    const card = el("li", { class: "card order", dataset: { orderNumber: order.number, status: order.status } });
    fillOrderCard(card, order);
    return card;
  }

  function fillOrderCard(card, order) {
    card.dataset.status = order.status;
    const details = el("div", { class: "order-details", hidden: true });
    const toggle = el("button", { type: "button", class: "link order-details-toggle", text: "Details and payments" });
    toggle.addEventListener("click", async () => {
      details.hidden = !details.hidden;
      if (!details.hidden) await showOrderDetails(details, order);
    });
    const flag = order.paymentFlag
      ? el("p", { class: "message warn small", text: `Payment needs a look: ${String(order.paymentFlag.kind || "").replace(/_/g, " ")}` })
      : null;
    const parts = [
      el(
        "header",
        {},
        el("strong", { class: "order-number", text: order.number }),
        statusBadge(order.status),
      ),
      el("p", { class: "small muted", text: `${when(order.createdAt)} · ${money(order.total)}` }),
      el("p", { class: "small" }, `${order.customer.name} · ${order.customer.phone}`, el("br"), `${order.delivery.area}, ${order.delivery.county}: ${order.delivery.address}`),
      order.delivery.notes ? el("p", { class: "small muted", text: `Notes: ${order.delivery.notes}` }) : null,
      el("p", { class: "small", text: order.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ") }),
      flag,
      statusMover(card, order),
      toggle,
      details,
    ];
    card.replaceChildren(...parts.filter(Boolean));
  }

  // Payments collected at the door carry this provider name.
  const ON_DELIVERY = "pay_on_delivery";

  function statusMover(card, order) {
    const moves = [...(NEXT[order.status] || [])];
    if (order.status === "dispatched" && !order.paidAt) moves.push("cancelled");
    if (moves.length === 0) return null;
    const select = el(
      "select",
      { name: "status", "aria-label": `New status for ${order.number}`, class: "move-status" },
      moves.map((s) => el("option", { value: s, text: statusLabel(s) })),
    );
    const note = el("input", { type: "text", name: "note", class: "move-note", placeholder: "Note (optional, private)", "aria-label": "Note", maxlength: "500" });
    const forCustomer = el("input", { type: "checkbox", name: "noteForCustomer", class: "note-for-customer" });
    const shareNote = el("label", { class: "checkbox small" }, forCustomer, " Show the note to the customer on the tracking page");
    const error = el("p", { class: "field-error", hidden: true });
    const button = el("button", { type: "submit", class: "move-order", text: "Update status" });
    const form = el("form", { class: "mover", novalidate: true }, el("label", { text: "Move to", for: `move-${order.number}` }), select, note, shareNote, error, el("div", { class: "actions" }, button));
    select.id = `move-${order.number}`;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (select.value === "cancelled" && !confirm(`Cancel order ${order.number}? Its stock goes back on sale${order.paidAt ? ", and what the customer paid is owed back (see Refunds)" : ""}.`)) return;
      button.disabled = true;
      try {
        const body = { status: select.value };
        if (note.value.trim()) {
          body.note = note.value.trim();
          body.noteForCustomer = forCustomer.checked;
        }
        const moved = await admin(`orders/${encodeURIComponent(order.number)}/status`, { method: "PUT", body });
        fillOrderCard(card, moved);
        say(status, `Order ${moved.number} is now: ${statusLabel(moved.status)}.`, "ok");
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
        button.disabled = false;
      }
    });
    return form;
  }

  async function showOrderDetails(container, order) {
    container.replaceChildren(el("p", { class: "muted small", text: "Loading…" }));
    const timeline = el(
      "ol",
      { class: "timeline" },
      order.timeline.map((t) =>
        el(
          "li",
          {},
          el("strong", { text: statusLabel(t.status) }),
          el("time", { datetime: t.at, text: when(t.at) }),
          el("span", { class: "small", text: `${t.note || ""}${t.actor && t.actor.name ? ` (${t.actor.name})` : t.actor ? ` (${t.actor.kind})` : ""}` }),
          t.forCustomer === false ? el("span", { class: "status status-private small", text: "private", title: "The customer's tracking page shows the status only" }) : null,
        ),
      ),
    );
    let payments = [];
    try {
      payments = await admin(`admin/payments/${encodeURIComponent(order.number)}`);
    } catch (error) {
      container.replaceChildren(el("p", { class: "message error", text: error.message }));
      return;
    }
    const rows = payments.map((p) => paymentRow(p, order));
    const select = container.closest(".order") && container.closest(".order").querySelector(".move-status");
    const cashAwaited = payments.some((p) => p.provider === ON_DELIVERY && p.status === "pending_verification");
    if (select && cashAwaited && order.status === "pending_payment" && !select.querySelector('option[value="processing"]')) {
      select.prepend(el("option", { value: "processing", text: `${statusLabel("processing")} (pays on delivery)` }));
    }
    container.replaceChildren(
      el("h3", { text: "Timeline" }),
      timeline,
      el("h3", { text: "Payments" }),
      rows.length ? el("ul", { class: "lines" }, rows) : el("p", { class: "muted small", text: "No payment attempts yet." }),
    );
  }

  // Payments made through the simulator carry this provider name (see the server's README).
  const SIMULATED_PROVIDER = "mpesa_simulated";

  function paymentRow(payment, order) {
    const simulated = payment.provider === SIMULATED_PROVIDER;
    const onDelivery = payment.provider === ON_DELIVERY;
    const method = onDelivery ? "pay on delivery" : payment.kind === "manual" ? "manual code" : simulated ? "simulated M-Pesa" : payment.provider;
    const parts = [
      `${money(payment.amount)} by ${method}`,
      payment.phone ? ` from ${payment.phone}` : "",
      payment.receipt ? `, receipt ${payment.receipt}` : "",
      payment.resultDescription ? ` — ${payment.resultDescription}` : "",
    ];
    const row = el("li", { class: "line small", dataset: { paymentId: payment.id } }, statusBadge(payment.status, payment.status.replace(/_/g, " ")), el("span", { class: "name", text: `${parts.join("")} · ${when(payment.createdAt)}` }));
    if (simulated) row.append(el("span", { class: "status status-simulated", text: "simulated", title: "Not real money: made through the M-Pesa simulator" }));
    if (payment.needsReview) row.append(el("span", { class: "status status-failed", text: "needs review" }));
    if (payment.status === "pending_verification") {
      const verdict = async (approve) => {
        const question = onDelivery ? "Record that nothing was collected? The order stays unpaid." : "Reject this code? The customer will have to pay again.";
        if (!approve && !confirm(question)) return;
        try {
          await admin(`admin/payments/${encodeURIComponent(payment.id)}/verify`, { method: "POST", body: { approve } });
          const fresh = await admin(`admin/orders/${encodeURIComponent(order.number)}`);
          const card = document.querySelector(`[data-order-number="${order.number}"]`);
          if (card) fillOrderCard(card, fresh);
          say(status, approve ? (onDelivery ? "Cash collected recorded." : "Payment confirmed.") : onDelivery ? "Recorded as not collected." : "Code rejected.", "ok");
        } catch (error) {
          say(status, error.message, "error");
        }
      };
      row.append(
        el("button", { type: "button", class: "verify-code", text: onDelivery ? "Record cash collected" : "Confirm code", onclick: () => verdict(true) }),
        el("button", { type: "button", class: "danger reject-code", text: onDelivery ? "Not collected" : "Reject", onclick: () => verdict(false) }),
      );
    }
    // With Daraja initiator credentials M-Pesa is asked (Transaction Status): a code it confirms
    // pays the order, a receipt it knows is filled in; its answer arrives a moment later.
    if (payment.provider !== ON_DELIVERY && (payment.status === "pending_verification" || (payment.status === "succeeded" && !payment.receipt))) {
      const ask = async () => {
        try {
          await admin(`admin/payments/${encodeURIComponent(payment.id)}/check`, { method: "POST" });
          say(status, "Asked M-Pesa. Its answer shows here in a moment (reload the order); one that does not confirm the payment goes to Reviews.", "ok");
        } catch (error) {
          say(status, error.message, "error");
        }
      };
      row.append(el("button", { type: "button", class: "secondary check-payment", text: "Check with M-Pesa", onclick: ask }));
    }
    return row;
  }

  // ---- Stats -------------------------------------------------------------------------------

  async function loadStats() {
    const stats = await admin("admin/stats");
    const figure = (label, value) => el("div", { class: "figure" }, el("span", { class: "label", text: label }), el("span", { class: "value", text: value }));
    $("stats").replaceChildren(
      el("h2", { text: "Revenue" }),
      el(
        "div",
        { class: "figures" },
        figure("Today", money(stats.revenue.today)),
        figure("Last 7 days", money(stats.revenue.last7Days)),
        figure("Last 30 days", money(stats.revenue.last30Days)),
        figure("All time", money(stats.revenue.allTime)),
        figure("Paid orders", String(stats.paidOrders)),
        figure("All orders", String(stats.totalOrders)),
        figure("Average order", money(stats.averageOrderValue)),
        stats.refunds ? figure("Refunds owed", money(stats.refunds.owed)) : null,
        stats.refunds ? figure("Refunded", money(stats.refunds.refunded)) : null,
      ),
      el("p", { class: "hint", text: "Revenue counts paid orders at their total: money refunded, or owed back, is not in it." }),
      el("h2", { text: "Last 30 days" }),
      dailyChart(stats.daily || []),
      el("h2", { text: "Orders by status" }),
      el(
        "div",
        { class: "figures" },
        stats.ordersByStatus.map((s) => figure(statusLabel(s.status), String(s.count))),
      ),
      el("h2", { text: "Best sellers" }),
      stats.topProducts.length
        ? el(
            "div",
            { class: "table-wrap" },
            el(
              "table",
              {},
              el("thead", {}, el("tr", {}, el("th", { text: "Product" }), el("th", { text: "Sold" }), el("th", { text: "Revenue" }))),
              el(
                "tbody",
                {},
                stats.topProducts.map((p) => el("tr", {}, el("td", { text: p.name }), el("td", { text: String(p.quantity) }), el("td", { text: money(p.revenue) }))),
              ),
            ),
          )
        : el("p", { class: "muted", text: "Nothing sold yet." }),
      el("p", { class: "small muted", text: `Figures as of ${when(stats.generatedAt)}.` }),
    );
  }

  /** A short date: "4 Dec". */
  function shortDate(iso) {
    const [year, month, day] = iso.split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString("en-KE", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  /**
   * Revenue per day as SVG bars, each day's paid orders above its bar and both in its tooltip.
   * The drawing scales to its box (a viewBox and width 100%), so it fits a phone.
   */
  function dailyChart(days) {
    if (!days.length) return el("p", { class: "muted", text: "No figures yet." });
    const W = 360;
    const H = 190;
    const left = 4;
    const top = 16;
    const bottom = 24;
    const plot = H - top - bottom;
    const slot = (W - left * 2) / days.length;
    const cents = days.map((d) => Number(toCents(d.revenue.amount)));
    const most = Math.max(...cents, 0);
    const currency = days[0].revenue.currency;
    const bars = days.map((d, i) => {
      const height = most > 0 ? Math.round((cents[i] / most) * plot * 10) / 10 : 0;
      const x = left + i * slot;
      const orders = d.orders === 1 ? "1 order" : `${d.orders} orders`;
      return svg(
        "g",
        { class: "day", "data-date": d.date },
        svg("title", { text: `${shortDate(d.date)}: ${money(d.revenue)}, ${orders}` }),
        svg("rect", { class: "hit", x: x.toFixed(1), y: top, width: slot.toFixed(1), height: plot, fill: "transparent" }),
        svg("rect", { class: "bar", "data-date": d.date, x: (x + slot * 0.15).toFixed(1), y: (top + plot - height).toFixed(1), width: (slot * 0.7).toFixed(1), height: height.toFixed(1) }),
        d.orders > 0 ? svg("text", { class: "count", x: (x + slot / 2).toFixed(1), y: (top + plot - height - 3).toFixed(1), "text-anchor": "middle", text: String(d.orders) }) : null,
      );
    });
    const label = (i, anchor) => svg("text", { class: "axis", x: (left + i * slot + slot / 2).toFixed(1), y: H - 6, "text-anchor": anchor, text: shortDate(days[i].date) });
    const last = days.length - 1;
    const total = days.reduce((sum, d) => sum + d.orders, 0);
    return el(
      "figure",
      { class: "chart" },
      svg(
        "svg",
        { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Revenue per day for the last ${days.length} days; highest ${money({ amount: Pochi.fromCents(BigInt(most)), currency })}` },
        svg("line", { class: "baseline", x1: left, x2: W - left, y1: top + plot, y2: top + plot }),
        svg("text", { class: "axis", x: left, y: 11, text: `Highest day: ${money({ amount: Pochi.fromCents(BigInt(most)), currency })}` }),
        bars,
        label(0, "start"),
        label(Math.floor(last / 2), "middle"),
        label(last, "end"),
      ),
      el("figcaption", { class: "small muted", text: `Bars: revenue of the orders paid each day (East Africa Time); numbers above them: paid orders (${total} in all).` }),
    );
  }

  // ---- Customers ---------------------------------------------------------------------------

  let customersCursor = null;

  async function loadCustomers(fresh) {
    if (fresh) customersCursor = null;
    const page = await admin(`admin/customers?limit=50${customersCursor ? `&cursor=${encodeURIComponent(customersCursor)}` : ""}`);
    const body = $("customers");
    if (fresh) body.replaceChildren();
    page.items.forEach((c) => {
      const phone = el("button", {
        type: "button",
        class: "link",
        text: c.phone,
        title: "Show this customer's orders",
        onclick: () => {
          const form = $("order-filters");
          form.reset();
          form.elements.phone.value = c.phone;
          openTab("orders");
        },
      });
      body.append(el("tr", {}, el("td", { text: c.name }), el("td", {}, phone), el("td", { text: String(c.orders) }), el("td", { text: money(c.totalSpent) }), el("td", { text: when(c.lastOrderAt) })));
    });
    if (body.children.length === 0) body.append(el("tr", {}, el("td", { colspan: "5", class: "muted", text: "No customers yet." })));
    customersCursor = page.nextCursor;
    $("customers-more").hidden = !customersCursor;
  }

  // ---- Refunds -----------------------------------------------------------------------------

  let refundsCursor = null;

  const REFUND_REASONS = {
    order_cancelled: "Order cancelled with money paid on it",
    over_payment: "Paid more than the order's total",
    paid_after_cancellation: "Paid after the order was cancelled",
  };

  const REFUND_STATUSES = {
    owed: "Owed",
    sending: "Being sent by M-Pesa",
    refunded: "Refunded",
    failed: "M-Pesa could not send it: still owed",
  };

  /** The form that records the M-Pesa code of the money an admin sent back. */
  function refundForm(refund) {
    const code = el("input", { name: "reference", required: "", maxlength: "40", placeholder: "M-Pesa code", autocomplete: "off", "aria-label": `M-Pesa code of the refund for ${refund.orderNumber}` });
    const note = el("input", { name: "note", maxlength: "500", placeholder: "Note (optional)", "aria-label": "Note" });
    const send = el("button", {
      type: "button",
      class: "secondary send-refund",
      text: "Send by M-Pesa",
      title: "Have M-Pesa reverse the payment (or send part of it back) from the shop's account",
      onclick: async () => {
        if (!confirm(`Send ${money(refund.amount)} back to the customer of ${refund.orderNumber} by M-Pesa?`)) return;
        try {
          await admin(`admin/refunds/${encodeURIComponent(refund.id)}/send`, { method: "POST" });
          say(status, `Refund for ${refund.orderNumber} sent to M-Pesa.`, "ok");
          await loadRefunds(true);
        } catch (error) {
          say(status, error.message, "error");
        }
      },
    });
    const form = el("form", { class: "refund-form inline" }, code, note, el("button", { type: "submit", text: "Mark refunded" }), send);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await admin(`admin/refunds/${encodeURIComponent(refund.id)}/refunded`, {
          method: "POST",
          body: { reference: code.value, note: note.value || null },
        });
        say(status, `Refund for ${refund.orderNumber} recorded.`, "ok");
        await loadRefunds(true);
      } catch (error) {
        say(status, error.message, "error");
      }
    });
    return form;
  }

  async function loadRefunds(fresh) {
    if (fresh) refundsCursor = null;
    const wanted = $("refund-status").value;
    const query = `limit=50${wanted ? `&status=${encodeURIComponent(wanted)}` : ""}${refundsCursor ? `&cursor=${encodeURIComponent(refundsCursor)}` : ""}`;
    const page = await admin(`admin/refunds?${query}`);
    const body = $("refunds");
    if (fresh) body.replaceChildren();
    page.items.forEach((r) => {
      // A refund sent to M-Pesa without an answer for 15 minutes can be given up on (it becomes
      // failed, to be checked against the statement and sent again or marked refunded).
      const giveUp =
        r.status === "sending"
          ? el("button", {
              type: "button",
              class: "secondary give-up-refund",
              text: "No answer: mark failed",
              onclick: async () => {
                try {
                  await admin(`admin/refunds/${encodeURIComponent(r.id)}/failed`, { method: "POST" });
                  say(status, `Refund for ${r.orderNumber} marked failed: check the M-Pesa statement before sending it again.`, "ok");
                  await loadRefunds(true);
                } catch (error) {
                  say(status, error.message, "error");
                }
              },
            })
          : null;
      const paidBack =
        r.status === "owed" || r.status === "failed"
          ? el("div", {}, r.status === "failed" && r.note ? el("p", { class: "small error", text: r.note }) : null, refundForm(r))
          : el("span", {}, r.reference ? el("strong", { class: "receipt-code", text: r.reference }) : "", r.actor && r.actor.name ? ` by ${r.actor.name}` : "", r.note ? el("span", { class: "small muted", text: ` · ${r.note}` }) : "", giveUp);
      body.append(
        el(
          "tr",
          { dataset: { refund: r.id, status: r.status, order: r.orderNumber } },
          el("td", { text: when(r.createdAt) }),
          el("td", { text: r.orderNumber }),
          el("td", { text: REFUND_REASONS[r.reason] || r.reason }),
          el("td", { text: money(r.amount) }),
          el("td", { class: "refund-status", text: REFUND_STATUSES[r.status] || r.status }),
          el("td", {}, paidBack),
        ),
      );
    });
    if (body.children.length === 0) body.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "No refunds here." })));
    refundsCursor = page.nextCursor;
    $("refunds-more").hidden = !refundsCursor;
  }

  // ---- Reviews -----------------------------------------------------------------------------

  let reviewsCursor = null;

  /** A kept notice's reason in the owner's words. */
  function reviewReason(reason) {
    switch (reason.kind) {
      case "unknown_attempt":
        return "A result for a payment request this shop never made";
      case "amount_mismatch":
        return `Wrong amount: ${money(reason.received)} for ${money(reason.expected)}`;
      case "currency_mismatch":
        return "Paid in another currency";
      case "conflicting_result":
        return "A second, different result for a payment already made";
      case "receipt_already_used":
        return "An M-Pesa receipt already counted on another payment";
      case "unmatched_payment":
        return "Money that matches no order";
      case "invalid_callback_token":
        return "A callback with the wrong secret (forged, or an old URL)";
      case "other_shortcode":
        return `Paid to another business number${reason.shortcode ? ` (${reason.shortcode})` : ""}`;
      case "unreadable_notification":
        return "A notification that could not be read";
      case "reconcile_limit_reached":
        return "M-Pesa never gave a final answer for this payment";
      case "not_confirmed":
        return "M-Pesa did not confirm this payment: decide it in the order, or check again";
      default:
        return String(reason.kind || "").replace(/_/g, " ");
    }
  }

  const REVIEW_OUTCOMES = { assigned: "Assigned to", refunded: "Sent back", ignored: "Ignored" };

  /** What was decided about a notice, or the form to decide it. */
  function reviewDecision(review) {
    const done = review.resolution;
    if (done) {
      const what = done.outcome === "assigned" ? `${REVIEW_OUTCOMES.assigned} ${done.orderNumber}` : done.outcome === "refunded" ? `${REVIEW_OUTCOMES.refunded} (${done.reference})` : REVIEW_OUTCOMES.ignored;
      return el("span", { class: "review-decision" }, el("strong", { text: what }), done.actor && done.actor.name ? ` by ${done.actor.name}` : "", done.note ? el("span", { class: "small muted", text: ` · ${done.note}` }) : "");
    }
    const canAssign = Boolean(review.amount && review.receipt);
    const action = el(
      "select",
      { name: "action", "aria-label": "Decision" },
      canAssign ? el("option", { value: "assign", text: "Assign to order" }) : null,
      el("option", { value: "refunded", text: "Sent back (M-Pesa code)" }),
      el("option", { value: "ignored", text: "Ignore" }),
    );
    const target = el("input", { name: "target", maxlength: "40", autocomplete: "off", "aria-label": "Order number or M-Pesa code", placeholder: canAssign ? "Order number" : "M-Pesa code" });
    const note = el("input", { name: "note", maxlength: "500", "aria-label": "Note", placeholder: "Note" });
    const sync = () => {
      target.hidden = action.value === "ignored";
      target.placeholder = action.value === "assign" ? "Order number" : "M-Pesa code";
    };
    action.addEventListener("change", sync);
    sync();
    const form = el("form", { class: "review-form inline" }, action, target, note, el("button", { type: "submit", text: "Decide" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { action: action.value, note: note.value || null };
      if (action.value === "assign") body.orderNumber = target.value.trim().toUpperCase();
      if (action.value === "refunded") body.reference = target.value;
      try {
        await admin(`admin/reviews/${encodeURIComponent(review.id)}/resolve`, { method: "POST", body });
        say(status, "Decision recorded.", "ok");
        await loadReviews(true);
      } catch (error) {
        say(status, error.message, "error");
      }
    });
    return form;
  }

  async function loadReviews(fresh) {
    if (fresh) reviewsCursor = null;
    const page = await admin(`admin/reviews?limit=50${reviewsCursor ? `&cursor=${encodeURIComponent(reviewsCursor)}` : ""}`);
    const body = $("reviews");
    if (fresh) body.replaceChildren();
    page.items.forEach((r) => {
      const order = r.orderNumber
        ? el("button", {
            type: "button",
            class: "link",
            text: r.orderNumber,
            title: "Show this order",
            onclick: () => {
              const form = $("order-filters");
              form.reset();
              if (form.elements.q) form.elements.q.value = r.orderNumber;
              openTab("orders");
            },
          })
        : el("span", { class: "muted", text: r.accountReference ? `account ${r.accountReference}` : "none" });
      body.append(
        el(
          "tr",
          { dataset: { reason: r.reason.kind, review: r.id, decided: r.resolution ? r.resolution.outcome : "" } },
          el("td", { text: when(r.at) }),
          el("td", { text: reviewReason(r.reason) }),
          el("td", {}, order),
          el("td", { text: r.amount ? money(r.amount) : "" }),
          el("td", { class: "small", text: r.receipt || r.reference || "" }),
          el("td", {}, reviewDecision(r)),
        ),
      );
    });
    if (body.children.length === 0) body.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "Nothing to review." })));
    reviewsCursor = page.nextCursor;
    $("reviews-more").hidden = !reviewsCursor;
  }

  // ---- Messages ----------------------------------------------------------------------------

  let messagesCursor = null;
  let messagesRefresh = null;

  // While the tab shows the newest messages, it refreshes itself every 5 s: a message leaves
  // a few seconds after the order change that makes it.
  function refreshMessagesSoon() {
    clearTimeout(messagesRefresh);
    messagesRefresh = setTimeout(() => {
      const panel = document.querySelector("[data-panel=\"messages\"]");
      const busy = document.activeElement && document.activeElement.closest("#messages button");
      if (panel.hidden || $("messages").children.length > 50) return;
      if (document.hidden || busy) return refreshMessagesSoon();
      loadMessages(true).catch(() => refreshMessagesSoon());
    }, 5000);
  }

  const MESSAGE_STATES = { pending: "Waiting", sent: "Sent", dead: "Dead", skipped: "Skipped" };
  const CHANNELS = { sms: "SMS", whatsapp: "WhatsApp", email: "E-mail", webhook: "Webhook", log: "Shown here only" };

  async function loadMessages(fresh) {
    if (fresh) messagesCursor = null;
    const query = new URLSearchParams({ limit: "50" });
    const state = $("message-state").value;
    if (state) query.set("state", state);
    if (messagesCursor) query.set("cursor", messagesCursor);
    const page = await admin(`admin/messages?${query}`);
    const body = $("messages");
    if (fresh) body.replaceChildren();
    page.items.forEach((m) => body.append(messageRow(m)));
    if (body.children.length === 0) body.append(el("tr", {}, el("td", { colspan: "6", class: "muted", text: "No messages yet." })));
    messagesCursor = page.nextCursor;
    $("messages-more").hidden = !messagesCursor;
    if (fresh) refreshMessagesSoon();
  }

  function messageRow(m) {
    const who = m.audience === "owner" ? "You" : "Customer";
    const to = el("td", {}, el("div", { text: `${who}, ${CHANNELS[m.channel] || m.channel}` }), el("div", { class: "muted small", text: m.message.to }));
    const text = el("td", { class: "message-text" }, m.message.subject ? el("strong", { text: m.message.subject }) : null, el("div", { text: m.message.body }));
    const state = el("td", {}, el("span", { class: `badge message-${m.state}`, text: MESSAGE_STATES[m.state] || m.state }));
    if (m.lastError) state.append(el("div", { class: "muted small", text: m.lastError }));
    const actions = el("td");
    if (m.state === "dead") {
      actions.append(
        el("button", {
          type: "button",
          class: "secondary",
          text: "Send again",
          onclick: async (event) => {
            event.target.disabled = true;
            try {
              const again = await admin(`admin/messages/${encodeURIComponent(m.id)}/retry`, { method: "POST" });
              row.replaceWith(messageRow(again));
              say(status, "The message will be sent again in a moment.", "ok");
            } catch (error) {
              event.target.disabled = false;
              say(status, error.message, "error");
            }
          },
        }),
      );
    }
    const row = el("tr", { dataset: { messageId: m.id, state: m.state, template: m.message.template, orderNumber: m.orderNumber } }, el("td", { text: when(m.sentAt || m.createdAt) }), el("td", { text: m.orderNumber }), to, text, state, actions);
    return row;
  }

  // ---- Products ----------------------------------------------------------------------------

  async function loadProducts() {
    const products = await adminAll("admin/products");
    $("products").replaceChildren(
      ...products.map((p) =>
        el(
          "tr",
          { dataset: { productId: p.id, productName: p.name } },
          el("td", {}, productImage(p.image, p.name, "thumb")),
          el("td", {}, el("strong", { text: p.name }), p.active ? null : el("span", { class: "muted small", text: " (not on sale)" })),
          el("td", { text: money(p.price) }),
          el("td", { text: p.stock === null || p.stock === undefined ? "—" : String(p.stock) }),
          el(
            "td",
            {},
            el("button", { type: "button", class: "link", text: "Edit", onclick: () => editProduct(p) }),
            el("button", { type: "button", class: "link", text: "Remove", onclick: () => removeProduct(p) }),
          ),
        ),
      ),
    );
  }

  // An edit never sends the stock: orders sell units while the form is open, and writing back
  // the count it showed would put them on sale again. Stock changes by adjustments (so many
  // units up or down, applied to the stock as it is then); the edit goes with the version it
  // was read at (If-Match), so an edit made meanwhile by someone else is not overwritten.
  function editProduct(product) {
    const form = $("product-form");
    clearErrors(form);
    form.elements.id.value = product.id;
    form.dataset.version = String(product.version);
    form.elements.name.value = product.name;
    form.elements.description.value = product.description || "";
    form.elements.price.value = fromCents(toCents(product.price.amount)).replace(/\.00$/, "");
    form.elements.stock.value = "";
    form.elements.maxPerOrder.value = product.maxPerOrder === null || product.maxPerOrder === undefined ? "" : String(product.maxPerOrder);
    form.elements.active.checked = product.active;
    form.elements.image.value = "";
    showStock(product.stock);
    $("product-form-title").textContent = `Edit ${product.name}`;
    $("product-cancel").hidden = false;
    form.scrollIntoView({ block: "start" });
  }

  function showStock(stock) {
    const form = $("product-form");
    const counted = stock !== null && stock !== undefined;
    $("product-stock-new").hidden = true;
    $("product-stock-adjust").hidden = false;
    $("product-adjust-controls").hidden = !counted;
    $("product-stock-now").textContent = counted ? `In stock now: ${stock}` : "Stock is not counted for this product.";
    form.elements.delta.value = "";
    form.elements.reason.value = "";
  }

  function resetProductForm() {
    const form = $("product-form");
    form.reset();
    form.elements.id.value = "";
    delete form.dataset.version;
    clearErrors(form);
    $("product-stock-new").hidden = false;
    $("product-stock-adjust").hidden = true;
    $("product-form-title").textContent = "Add a product";
    $("product-cancel").hidden = true;
  }

  async function adjustStock() {
    const form = $("product-form");
    const id = form.elements.id.value;
    if (!id) return;
    clearErrors(form);
    say(status, "");
    const delta = form.elements.delta.value.trim();
    if (!/^-?\d+$/.test(delta) || Number(delta) === 0) {
      showError(form, { field: "delta", message: "Enter the units to add, or a minus sign and the units to take away." }, status);
      return;
    }
    const body = { delta: Number(delta), reason: form.elements.reason.value };
    $("product-adjust").disabled = true;
    try {
      // One key per adjustment: a retry of this request cannot apply it twice.
      const adjustment = await admin(`admin/products/${encodeURIComponent(id)}/stock-adjustments`, {
        method: "POST",
        body,
        headers: { "Idempotency-Key": newKey() },
      });
      showStock(adjustment.stockAfter);
      await loadProducts();
      say(status, `Stock adjusted: ${adjustment.stockAfter} in stock now.`, "ok");
    } catch (error) {
      if (error.status !== 401) showError(form, error, status);
    } finally {
      $("product-adjust").disabled = false;
    }
  }

  async function saveProduct(event) {
    event.preventDefault();
    const form = $("product-form");
    clearErrors(form);
    say(status, "");
    const body = {
      name: form.elements.name.value,
      description: form.elements.description.value,
      price: form.elements.price.value.trim().replace(/,/g, ""),
      active: form.elements.active.checked,
    };
    const editing = Boolean(form.elements.id.value);
    if (editing) body.id = form.elements.id.value;
    const stock = editing ? "" : form.elements.stock.value.trim();
    if (stock !== "") {
      if (!/^\d+$/.test(stock)) {
        showError(form, { field: "stock", message: "Enter a whole number of units, or leave it empty." }, status);
        return;
      }
      body.stock = Number(stock);
    }
    const maxPerOrder = form.elements.maxPerOrder.value.trim();
    if (maxPerOrder !== "") {
      if (!/^\d+$/.test(maxPerOrder)) {
        showError(form, { field: "maxPerOrder", message: "Enter a whole number of units, or leave it empty." }, status);
        return;
      }
      body.maxPerOrder = Number(maxPerOrder);
    }
    const file = form.elements.image.files[0];
    $("product-save").disabled = true;
    try {
      const headers = editing && form.dataset.version ? { "If-Match": `"${form.dataset.version}"` } : {};
      let product = await admin("admin/products", { method: "POST", body, headers });
      if (file) {
        const upload = new FormData();
        upload.append("image", file);
        try {
          product = await admin(`admin/products/${encodeURIComponent(product.id)}/image`, { method: "POST", body: upload });
        } catch (error) {
          // The product is saved; keep editing it so the photo can be sent again.
          await loadProducts();
          editProduct(product);
          showError(form, { ...error, field: "image", message: error.message }, status);
          return;
        }
      }
      resetProductForm();
      await loadProducts();
      say(status, `${product.name} saved.`, "ok");
    } catch (error) {
      if (error.code === "product_changed") {
        // Someone else saved it since this form opened: show theirs, keep nothing stale.
        say(status, "Someone changed this product since you opened it. It is shown again as it is now: make your change again.", "error");
        await reopenProduct(form.elements.id.value);
      } else if (error.status !== 401) {
        showError(form, error, status);
      }
    } finally {
      $("product-save").disabled = false;
    }
  }

  async function reopenProduct(id) {
    try {
      const product = await admin(`admin/products/${encodeURIComponent(id)}`);
      await loadProducts();
      editProduct(product);
    } catch (error) {
      if (error.status !== 401) say(status, error.message, "error");
    }
  }

  async function removeProduct(product) {
    if (!confirm(`Remove ${product.name}? It is archived if orders have it.`)) return;
    try {
      const result = await admin(`admin/products/${encodeURIComponent(product.id)}`, { method: "DELETE" });
      say(status, result.result === "archived" ? `${product.name} is archived: it stays in past orders.` : `${product.name} was deleted.`, "ok");
      await loadProducts();
    } catch (error) {
      say(status, error.message, "error");
    }
  }

  // ---- Settings ----------------------------------------------------------------------------

  let counties = [];

  function countyRow(rule) {
    const select = el(
      "select",
      { name: "county", "aria-label": "County" },
      el("option", { value: "", text: "Choose a county" }),
      counties.map((c) => el("option", { value: c, text: c, selected: rule && rule.county === c })),
    );
    const fee = el("input", { type: "text", name: "fee", inputmode: "decimal", "aria-label": "Fee for the county", placeholder: "Fee", value: rule ? plain(rule.fee) : "" });
    const areas = el("textarea", { name: "areas", "aria-label": "Area fees", placeholder: "Westlands: 100" });
    areas.value = rule ? rule.areas.map((a) => `${a.area}: ${plain(a.fee)}`).join("\n") : "";
    const row = el("div", { class: "fee-row" }, select, fee, areas);
    row.append(el("button", { type: "button", class: "link", text: "Remove county", onclick: () => row.remove() }));
    return row;
  }

  function plain(value) {
    return value ? String(value.amount).replace(/\.00$/, "") : "";
  }

  // The message templates: one text box per template and language, with its SMS length for a
  // typical order, measured by the server as the owner types.
  const TEMPLATE_TITLES = {
    order_placed: "Order placed",
    payment_succeeded: "Payment received",
    payment_failed: "Payment failed",
    order_dispatched: "On its way",
    order_delivered: "Delivered",
    order_cancelled: "Cancelled",
    refund_sent: "Money sent back",
    owner_payment_succeeded: "Your alert: an order was paid",
  };
  const LANGUAGES = { en: "English", sw: "Kiswahili" };

  function smsLengthText(length) {
    const count = length.segments === 1 ? "1 SMS" : `${length.segments} SMS`;
    const alphabet = length.encoding === "gsm7" ? "" : " (special characters: 70 a message)";
    return `${count}, ${length.units} characters for a typical order, ${length.remaining} left${alphabet}`;
  }

  function templateBox(t) {
    const id = `template-${t.name}-${t.language}`;
    const area = el("textarea", { id, maxlength: "1000", dataset: { name: t.name, language: t.language, defaultText: t.defaultText } });
    area.value = t.text;
    const counter = el("p", { class: "hint sms-length", text: smsLengthText(t.sms), dataset: { segments: String(t.sms.segments) } });
    let pending = null;
    area.addEventListener("input", () => {
      clearTimeout(pending);
      pending = setTimeout(async () => {
        try {
          const length = await admin("admin/messages/sms-length", { method: "POST", body: { text: area.value, template: true } });
          counter.textContent = smsLengthText(length);
          counter.dataset.segments = String(length.segments);
          counter.classList.toggle("warning", length.segments > 1);
        } catch (_) {
          counter.textContent = "";
        }
      }, 300);
    });
    const reset = el("button", { type: "button", class: "link", text: "Use the default", onclick: () => { area.value = t.defaultText; area.dispatchEvent(new Event("input")); } });
    return el("div", { class: "template" }, el("label", { for: id, text: `${TEMPLATE_TITLES[t.name] || t.name} (${LANGUAGES[t.language] || t.language})` }), area, counter, reset);
  }

  async function loadTemplates() {
    const templates = await admin("admin/messages/templates");
    $("templates").replaceChildren(...templates.map(templateBox));
  }

  function readTemplates() {
    return Array.from($("templates").querySelectorAll("textarea"))
      .filter((area) => area.value !== area.dataset.defaultText)
      .map((area) => ({ name: area.dataset.name, language: area.dataset.language, text: area.value }));
  }

  async function loadSettings() {
    loadTemplates().catch((error) => say(status, error.message, "error"));
    const [settings, publicSettings] = await Promise.all([admin("admin/settings"), Pochi.settings()]);
    counties = publicSettings.counties;
    const form = $("settings-form");
    clearErrors(form);
    form.elements.storeName.value = settings.storeName;
    form.elements.contactPhone.value = settings.contactPhone || "";
    form.elements.contactEmail.value = settings.contactEmail || "";
    form.elements.defaultDeliveryFee.value = plain(settings.delivery.defaultFee);
    form.elements.freeDeliveryOver.value = plain(settings.delivery.freeDeliveryOver);
    form.elements.paymentInstructions.value = settings.paymentInstructions || "";
    form.elements.wholeUnitsOnly.checked = settings.wholeUnitsOnly;
    const account = settings.mpesaAccount || {};
    form.elements["mpesaAccount.kind"].value = account.kind || "";
    form.elements["mpesaAccount.number"].value = account.number || "";
    form.elements["mpesaAccount.name"].value = account.name || "";
    $("county-fees").replaceChildren(...settings.delivery.counties.map(countyRow));
  }

  function readAreas(text) {
    return text
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const at = line.lastIndexOf(":");
        return at < 0 ? { area: line, fee: "" } : { area: line.slice(0, at).trim(), fee: line.slice(at + 1).trim() };
      });
  }

  async function saveSettings(event) {
    event.preventDefault();
    const form = $("settings-form");
    clearErrors(form);
    const optional = (name) => form.elements[name].value.trim() || null;
    const body = {
      storeName: form.elements.storeName.value,
      contactPhone: optional("contactPhone"),
      contactEmail: optional("contactEmail"),
      defaultDeliveryFee: form.elements.defaultDeliveryFee.value.trim(),
      freeDeliveryOver: optional("freeDeliveryOver"),
      paymentInstructions: optional("paymentInstructions"),
      wholeUnitsOnly: form.elements.wholeUnitsOnly.checked,
      countyFees: Array.from($("county-fees").children)
        .map((row) => ({
          county: row.querySelector("[name=county]").value,
          fee: row.querySelector("[name=fee]").value.trim(),
          areas: readAreas(row.querySelector("[name=areas]").value),
        }))
        .filter((rule) => rule.county || rule.fee || rule.areas.length),
    };
    if ($("templates").children.length) body.notificationTemplates = readTemplates();
    const accountKind = form.elements["mpesaAccount.kind"].value;
    body.mpesaAccount = accountKind
      ? { kind: accountKind, number: form.elements["mpesaAccount.number"].value.trim(), name: form.elements["mpesaAccount.name"].value }
      : null;
    $("settings-save").disabled = true;
    try {
      const saved = await admin("admin/settings", { method: "POST", body });
      showAccountBanner(paidByHand, saved.mpesaAccount);
      say(status, "Settings saved.", "ok");
      loadTemplates().catch(() => {});
    } catch (error) {
      if (error.status !== 401) {
        // `countyFees[2].areas[0].fee` is shown under the county fees.
        const field = error.field && error.field.startsWith("countyFees") ? "countyFees" : error.field && error.field.startsWith("notificationTemplates") ? "notificationTemplates" : error.field;
        // `notificationTemplates[1].text` names the second changed template: say which.
        const changed = error.field && /^notificationTemplates\[(\d+)\]/.exec(error.field);
        const template = changed && body.notificationTemplates && body.notificationTemplates[Number(changed[1])];
        const where = template ? `${TEMPLATE_TITLES[template.name] || template.name} (${LANGUAGES[template.language] || template.language})` : error.field;
        showError(form, { ...error, field, message: error.field && field !== error.field ? `${where}: ${error.message}` : error.message }, status);
      }
    } finally {
      $("settings-save").disabled = false;
    }
  }

  // ---- Start -------------------------------------------------------------------------------

  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", () => {
    showLogin("");
    location.replace("logged-out");
  });
  document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => openTab(b.dataset.tab)));
  $("order-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadOrders(true);
  });
  $("order-filters").addEventListener("reset", () => setTimeout(() => loadOrders(true)));
  $("orders-export").addEventListener("click", () => exportOrders().catch((e) => say(status, e.message, "error")));
  $("orders-more").addEventListener("click", () => loadOrders(false).catch((e) => say(status, e.message, "error")));
  $("customers-more").addEventListener("click", () => loadCustomers(false).catch((e) => say(status, e.message, "error")));
  $("reviews-more").addEventListener("click", () => loadReviews(false).catch((e) => say(status, e.message, "error")));
  $("refunds-more").addEventListener("click", () => loadRefunds(false).catch((e) => say(status, e.message, "error")));
  $("refund-status").addEventListener("change", () => loadRefunds(true).catch((e) => say(status, e.message, "error")));
  $("messages-more").addEventListener("click", () => loadMessages(false).catch((e) => say(status, e.message, "error")));
  $("message-state").addEventListener("change", () => loadMessages(true).catch((e) => say(status, e.message, "error")));
  $("product-form").addEventListener("submit", saveProduct);
  $("product-cancel").addEventListener("click", resetProductForm);
  $("product-adjust").addEventListener("click", adjustStock);
  // Enter in the adjustment's fields adjusts the stock, rather than saving the product.
  for (const field of ["product-delta", "product-reason"]) {
    $(field).addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        adjustStock();
      }
    });
  }
  $("settings-form").addEventListener("submit", saveSettings);
  $("add-county").addEventListener("click", () => $("county-fees").append(countyRow(null)));

  // The simulator's routes exist only while M-Pesa is simulated.
  api("simulator")
    .then((simulator) => {
      $("simulated-banner").hidden = !(simulator && simulator.enabled);
    })
    .catch(() => {});

  if (auth()) enter();
  else showLogin("");
})();
