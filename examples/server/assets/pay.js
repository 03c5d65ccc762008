// The payment page (`pay?order=NUMBER[&payment=ID]`): starts an M-Pesa prompt (STK push) for
// the order, polls the attempt for its live status, offers a resend or a retry, the manual
// confirmation-code fallback when the shop accepts it, and, when the server runs a simulated
// M-Pesa, buttons that play the customer's answer.
"use strict";

(() => {
  const { api, el, say, money, param, showError, clearErrors, newKey } = Pochi;
  const status = document.getElementById("status");
  const orderNumber = param("order");
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 2000;
  let pushMethod = null;
  let paymentId = param("payment");
  let pollTimer = null;
  let simulated = false;
  let lastOrder = null;

  /** The language the customer chose at checkout (its messages come in it), if any. */
  function chosenLanguage() {
    try {
      const details = JSON.parse(localStorage.getItem("pochi.customer.v1") || "{}");
      return details.language === "sw" || details.language === "en" ? details.language : null;
    } catch (_) {
      return null;
    }
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
        showPush({ title: "Payment received", text: payment.receipt ? `M-Pesa receipt ${payment.receipt}. Thank you!` : "Thank you!" });
        goToConfirmation();
        return false;
      case "pending_verification":
        showPush({
          title: "Code received",
          text: "The shop will check your M-Pesa code and confirm your order. You can follow it on the tracking page.",
        });
        return false;
      case "pending":
        if (payment.kind === "manual") return false;
        showPush({
          title: "Check your phone",
          text: `Enter your M-Pesa PIN on the prompt to pay ${amount}. This page updates by itself.`,
          spinner: true,
          resend: true,
          otherPhone: true,
        });
        $("simulator").hidden = !simulated;
        return true;
      case "cancelled":
        showPush({ title: "Payment cancelled", text: payment.message || "The M-Pesa prompt was cancelled. Nothing was charged.", retry: true, otherPhone: true });
        return false;
      case "timed_out":
        showPush({ title: "No answer", text: payment.message || "The M-Pesa prompt was not answered in time. Nothing was charged.", retry: true, otherPhone: true });
        return false;
      default:
        showPush({
          title: "Payment not completed",
          text: payment.message || "The payment did not go through. Nothing was charged.",
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
      const language = chosenLanguage();
      const payment = await api(`payments/${encodeURIComponent(paymentId)}${language ? `?language=${language}` : ""}`);
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
    showPush({ title: "Sending the M-Pesa prompt…", spinner: true });
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
        else showPush({ title: "Check your phone", text: "", resend: true, otherPhone: true });
      } else if (error.details && error.details.reason === "order_not_payable") {
        await showOrder();
      } else {
        say(status, error.message, "error");
        showPush({ title: "The prompt was not sent", text: "", retry: true, otherPhone: true });
      }
      return error;
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
      showError(form, { field: "code", message: "Please enter the code from your M-Pesa SMS, or paste the SMS." }, status);
      return;
    }
    $("send-code").disabled = true;
    try {
      const payment = await api("payments", {
        method: "POST",
        body: { orderNumber, method: "manual", code },
        headers: { "Idempotency-Key": newKey() },
      });
      clearTimeout(pollTimer);
      paymentId = payment.id;
      setPaymentInUrl(paymentId);
      $("manual-panel").hidden = true;
      showPayment(payment);
    } catch (error) {
      // A message that does not fit (another recipient, amount or account) is about the code.
      const mismatch = error.details && /^payment_(to_other_recipient|amount_mismatch|account_mismatch)$|^receipt_already_used$/.test(error.details.reason || "");
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
    const step = (...parts) => list.append(el("li", {}, ...parts));
    const strong = (text) => el("strong", {}, text);
    const amount = money(order.total);
    if (account.kind === "till") {
      step("On M-Pesa, choose ", strong("Lipa na M-Pesa"), ", then ", strong("Buy Goods and Services"), ".");
      step("Till number: ", strong(account.number), ".");
    } else if (account.kind === "paybill") {
      step("On M-Pesa, choose ", strong("Lipa na M-Pesa"), ", then ", strong("Pay Bill"), ".");
      step("Business number: ", strong(account.number), ".");
      step("Account number: ", strong(order.number), ".");
    } else {
      step("On M-Pesa, choose ", strong("Send Money"), ".");
      step("Phone number: ", strong(account.number), ".");
    }
    step("Amount: ", strong(amount), " exactly.");
    step("M-Pesa shows the name ", strong(account.name), ": check it before you enter your PIN.");
    step("Then type the code from M-Pesa's SMS below, or paste the whole SMS.");
    list.hidden = false;
  }

  /** The order's state; false when there is nothing (more) to pay. */
  async function showOrder() {
    let order;
    try {
      order = await api(`track/${encodeURIComponent(orderNumber)}`);
    } catch (error) {
      say(status, error.status === 404 ? "We could not find that order. Check the order number." : error.message, "error");
      return false;
    }
    lastOrder = order;
    $("order-panel").hidden = false;
    $("order-number").textContent = order.number;
    $("order-total").textContent = money(order.total);
    $("track-link").href = `track?order=${encodeURIComponent(order.number)}`;
    if (order.status === "pending_payment") return true;
    if (order.status === "cancelled") {
      say(status, "This order was cancelled, so it cannot be paid. You are welcome to order again.", "warn");
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
      say(status, "No order was given. Find your order on the tracking page.", "error");
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
    document.querySelectorAll("#simulator [data-outcome]").forEach((b) => {
      b.addEventListener("click", () => simulate(b.dataset.outcome));
    });

    const [settings, simulator] = await Promise.all([
      Pochi.settings().catch((error) => {
        say(status, error.message, "error");
        return null;
      }),
      api("simulator").catch(() => ({ enabled: false })),
    ]);
    simulated = Boolean(simulator && simulator.enabled);
    if (!settings || !(await showOrder())) return;
    const methods = settings.paymentMethods || [];
    pushMethod = methods.find((m) => m !== "manual") || null;
    if (methods.includes("manual")) {
      $("manual-panel").hidden = false;
      showPayTo(settings.mpesaAccount, lastOrder);
      $("instructions").textContent = settings.paymentInstructions || "";
      $("instructions").hidden = !settings.paymentInstructions;
      $("manual-details").open = !pushMethod;
      if (!pushMethod) $("manual-details").querySelector("summary").textContent = "Pay the shop on M-Pesa, then send the code";
    }
    if (paymentId) {
      poll();
    } else if (pushMethod) {
      startPush();
    } else if (!methods.includes("manual")) {
      say(status, "This shop cannot take payments just now. Please contact the shop.", "error");
    }
  }

  window.addEventListener("pagehide", () => clearTimeout(pollTimer));
  start();
})();
