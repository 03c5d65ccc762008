// The payment page (`pay?order=NUMBER[&payment=ID]`): starts an M-Pesa prompt (STK push) for
// the order, polls the attempt for its live status, offers a resend or a retry, the manual
// confirmation-code fallback when the shop accepts it, pay on delivery as the second choice
// when the shop takes it (`&method=pay_on_delivery` starts it instead of the prompt), and, when
// the server runs a simulated M-Pesa, buttons that play the customer's answer.
"use strict";

(() => {
  const { api, el, say, money, param, showError, clearErrors, newKey, t, tNodes } = Pochi;
  const status = document.getElementById("status");
  const orderNumber = param("order");
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 2000;
  const ON_DELIVERY = "pay_on_delivery";
  let pushMethod = null;
  let paymentId = param("payment");
  let pollTimer = null;
  let simulated = false;
  let lastOrder = null;

  let settings = null;

  /** What the texts of the manual-code refusals name: the shop's account, the amount, the order. */
  function refusalContext() {
    const context = {};
    const account = settings && settings.mpesaAccount;
    const described = account && t(`pay.account_${account.kind}`, { number: account.number, name: account.name }, null);
    if (described) context.account = described;
    if (lastOrder) {
      context.amount = money(lastOrder.total);
      context.order = lastOrder.number;
    }
    return context;
  }

  function setPaymentInUrl(id) {
    const url = new URL(location.href);
    if (id) url.searchParams.set("payment", id);
    else url.searchParams.delete("payment");
    history.replaceState(null, "", url);
  }

  function goToConfirmation() {
    location.replace(`confirmation?order=${encodeURIComponent(orderNumber)}`);
  }

  function showPush({ title, text, spinner = false, resend = false, retry = false, otherPhone = false }) {
    $("push-panel").hidden = false;
    $("push-title").textContent = title;
    $("push-text").textContent = text || "";
    $("push-spinner").hidden = !spinner;
    $("resend").hidden = !resend;
    $("retry").hidden = !retry;
    $("other-phone").hidden = !otherPhone;
  }

  /** Shows an attempt's state; true while it is still waiting for the customer. */
  function showPayment(payment) {
    const amount = money(payment.amount);
    $("simulator").hidden = true;
    switch (payment.status) {
      case "succeeded":
        showPush({ title: t("pay.received"), text: payment.receipt ? t("pay.receipt_thanks", { receipt: payment.receipt }) : t("pay.thanks") });
        goToConfirmation();
        return false;
      case "pending_verification":
        if (payment.provider === ON_DELIVERY) {
          $("delivery-panel").hidden = true;
          $("manual-panel").hidden = true;
          document.querySelector("h1").textContent = t("pay.on_delivery_title");
          showPush({ title: t("pay.on_delivery_title"), text: t("pay.on_delivery_text", { amount }) });
          return false;
        }
        showPush({
          title: t("pay.code_received"),
          text: t("pay.code_received_text"),
        });
        return false;
      case "pending":
        if (payment.kind === "manual") return false;
        showPush({
          title: t("pay.check_phone"),
          text: t("pay.enter_pin", { amount }),
          spinner: true,
          resend: true,
          otherPhone: true,
        });
        $("simulator").hidden = !simulated;
        return true;
      case "cancelled":
        showPush({ title: t("pay.cancelled"), text: payment.message || t("pay.cancelled_text"), retry: true, otherPhone: true });
        return false;
      case "timed_out":
        showPush({ title: t("pay.no_answer"), text: payment.message || t("pay.no_answer_text"), retry: true, otherPhone: true });
        return false;
      default:
        showPush({
          title: t("pay.failed"),
          text: payment.message || t("pay.failed_text"),
          retry: true,
          otherPhone: true,
        });
        return false;
    }
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (!paymentId) return;
    try {
      // The attempt's message (a wrong PIN, a cancelled prompt) comes in the page's language.
      const payment = await api(`payments/${encodeURIComponent(paymentId)}?language=${Pochi.language}`);
      if (showPayment(payment)) pollTimer = setTimeout(poll, POLL_MS);
    } catch (error) {
      say(status, error.message, "error");
      pollTimer = setTimeout(poll, POLL_MS * 3);
    }
  }

  async function startPush(phone) {
    if (!pushMethod) return;
    clearTimeout(pollTimer);
    say(status, "");
    showPush({ title: t("pay.sending"), spinner: true });
    const body = { orderNumber, method: pushMethod };
    if (phone) body.phone = phone;
    try {
      const payment = await api("payments", { method: "POST", body, headers: { "Idempotency-Key": newKey() } });
      paymentId = payment.id;
      setPaymentInUrl(paymentId);
      if (showPayment(payment)) pollTimer = setTimeout(poll, POLL_MS);
      return null;
    } catch (error) {
      if (error.details && error.details.reason === "payment_in_progress") {
        // A prompt is already on its way: keep following it.
        say(status, error.message, "warn");
        if (paymentId) poll();
        else showPush({ title: t("pay.check_phone"), text: "", resend: true, otherPhone: true });
      } else if (error.details && error.details.reason === "order_not_payable") {
        await showOrder();
      } else {
        say(status, error.message, "error");
        showPush({ title: t("pay.not_sent"), text: "", retry: true, otherPhone: true });
      }
      return error;
    }
  }

  /** Starts paying on delivery: nothing is asked of the customer now. */
  async function startOnDelivery() {
    clearTimeout(pollTimer);
    say(status, "");
    $("pay-on-delivery").disabled = true;
    try {
      const payment = await api("payments", {
        method: "POST",
        body: { orderNumber, method: ON_DELIVERY },
        headers: { "Idempotency-Key": newKey() },
      });
      paymentId = payment.id;
      setPaymentInUrl(paymentId);
      $("simulator").hidden = true;
      showPayment(payment);
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      $("pay-on-delivery").disabled = false;
    }
  }

  async function simulate(outcome) {
    if (!paymentId) return;
    const buttons = document.querySelectorAll("#simulator button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await api(`simulator/payments/${encodeURIComponent(paymentId)}`, { method: "POST", body: { outcome } });
      await poll();
    } catch (error) {
      say(status, error.message, "error");
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  async function sendCode(event) {
    event.preventDefault();
    const form = $("manual-form");
    clearErrors(form);
    const code = form.elements.code.value.trim();
    if (!code) {
      showError(form, { field: "code", message: t("pay.missing_code") }, status);
      return;
    }
    $("send-code").disabled = true;
    try {
      const payment = await api("payments", {
        method: "POST",
        body: { orderNumber, method: "manual", code },
        headers: { "Idempotency-Key": newKey() },
        context: refusalContext,
      });
      clearTimeout(pollTimer);
      paymentId = payment.id;
      setPaymentInUrl(paymentId);
      $("manual-panel").hidden = true;
      showPayment(payment);
    } catch (error) {
      // A message that does not fit (another recipient, amount or account) is about the code.
      const mismatch = error.details && /^payment_(to_other_recipient|amount_mismatch|account_mismatch|before_order)$|^receipt_already_used$/.test(error.details.reason || "");
      showError(form, mismatch ? { field: "code", message: error.message } : error, status);
    } finally {
      $("send-code").disabled = false;
    }
  }

  /** Where and how to pay by hand: the steps on the customer's M-Pesa menu. */
  function showPayTo(account, order) {
    const list = $("pay-to");
    list.replaceChildren();
    if (!account || !order) return;
    const strong = (text) => el("strong", {}, text);
    // Each step is a sentence of the catalogue whose placeholders are shown in bold.
    const step = (key, vars = {}) => {
      const bold = Object.fromEntries(Object.entries(vars).map(([name, text]) => [name, strong(text)]));
      list.append(el("li", {}, ...tNodes(key, bold)));
    };
    const lipa = t("pay.menu_lipa");
    if (account.kind === "till") {
      step("pay.step_lipa", { lipa, option: t("pay.menu_buy_goods") });
      step("pay.step_till_number", { number: account.number });
    } else if (account.kind === "paybill") {
      step("pay.step_lipa", { lipa, option: t("pay.menu_pay_bill") });
      step("pay.step_business_number", { number: account.number });
      step("pay.step_account_number", { order: order.number });
    } else {
      step("pay.step_send", { option: t("pay.menu_send_money") });
      step("pay.step_phone_number", { number: account.number });
    }
    step("pay.step_amount", { amount: money(order.total) });
    step("pay.step_name", { name: account.name });
    step("pay.step_code");
    list.hidden = false;
  }

  /** The order's state; false when there is nothing (more) to pay. */
  async function showOrder() {
    let order;
    try {
      order = await api(`track/${encodeURIComponent(orderNumber)}`);
    } catch (error) {
      say(status, error.status === 404 ? t("order.not_found") : error.message, "error");
      return false;
    }
    lastOrder = order;
    $("order-panel").hidden = false;
    $("order-number").textContent = order.number;
    $("order-total").textContent = money(order.total);
    $("track-link").href = `track?order=${encodeURIComponent(order.number)}`;
    if (order.status === "pending_payment") return true;
    if (order.status === "cancelled") {
      say(status, t("pay.order_cancelled"), "warn");
      $("push-panel").hidden = true;
      $("simulator").hidden = true;
      $("manual-panel").hidden = true;
      return false;
    }
    goToConfirmation();
    return false;
  }

  async function start() {
    if (!orderNumber) {
      say(status, t("order.none_given"), "error");
      return;
    }
    $("resend").addEventListener("click", () => startPush());
    $("retry").addEventListener("click", () => startPush());
    $("phone-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = $("phone-form");
      clearErrors(form);
      const error = await startPush(form.elements.phone.value);
      if (error && error.field === "phone") showError(form, error, status);
    });
    $("manual-form").addEventListener("submit", sendCode);
    $("pay-on-delivery").addEventListener("click", startOnDelivery);
    document.querySelectorAll("#simulator [data-outcome]").forEach((b) => {
      b.addEventListener("click", () => simulate(b.dataset.outcome));
    });

    let simulator;
    [settings, simulator] = await Promise.all([
      Pochi.settings().catch((error) => {
        say(status, error.message, "error");
        return null;
      }),
      api("simulator").catch(() => ({ enabled: false })),
    ]);
    simulated = Boolean(simulator && simulator.enabled);
    if (!settings || !(await showOrder())) return;
    const methods = settings.paymentMethods || [];
    pushMethod = methods.find((m) => m !== "manual" && m !== ON_DELIVERY) || null;
    const onDelivery = methods.includes(ON_DELIVERY);
    $("delivery-panel").hidden = !onDelivery;
    if (methods.includes("manual")) {
      $("manual-panel").hidden = false;
      showPayTo(settings.mpesaAccount, lastOrder);
      $("instructions").textContent = settings.paymentInstructions || "";
      $("instructions").hidden = !settings.paymentInstructions;
      $("manual-details").open = !pushMethod;
      if (!pushMethod) $("manual-details").querySelector("summary").textContent = t("pay.manual_only_summary");
    }
    if (paymentId) {
      poll();
    } else if (onDelivery && param("method") === ON_DELIVERY) {
      startOnDelivery();
    } else if (pushMethod) {
      startPush();
    } else if (!methods.includes("manual") && !onDelivery) {
      say(status, t("pay.no_methods"), "error");
    }
  }

  window.addEventListener("pagehide", () => clearTimeout(pollTimer));
  Pochi.ready.then(start);
})();
