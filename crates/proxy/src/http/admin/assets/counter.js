// The counter (/admin/counter): a keypad (its buttons or the keyboard's digits), Charge, the
// checkout widget's own pending view of the sale, Paid full-screen with the announcement, New
// sale. The server draws the page and makes the sale; this script only drives it.
// - One payment per sale: each sale gets a random key sent as Idempotency-Key, kept until the
//   sale is made, so a double tap or a retry after a dropped answer makes the same payment.
// - A reload resumes: the sale's id goes into the address (?sale=), and the server draws the
//   page with that sale (data-sale) when it is this person's.
"use strict";

(function () {
  const root = document.getElementById("counter");
  if (!root) return;
  const MIN = Number(root.dataset.min) || 1000;
  const MAX = Number(root.dataset.max) || 10000000;
  const LANG = root.dataset.lang || "id";
  const $ = (id) => document.getElementById(id);
  const display = $("amount-display");
  const chargeButton = $("charge");
  const note = $("note");
  const chargeError = $("charge-error");
  const keypadView = $("keypad-view");
  const saleView = $("sale-view");
  const slot = $("sale-slot");
  const expired = $("sale-expired");
  const saleError = $("sale-error");
  const paidView = $("paid-view");

  let digits = "";
  let sale = null;
  let saleKey = null;
  let charging = false;

  function rupiah(n) {
    return "Rp " + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  function amount() {
    return digits === "" ? 0 : Number(digits);
  }

  function drawAmount() {
    display.textContent = rupiah(amount());
    chargeButton.disabled = charging || amount() < MIN || amount() > MAX;
  }

  // 16 random bytes as hex: crypto.randomUUID needs https, a till's tablet may use http.
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function press(key) {
    if (sale || charging) return;
    if (key === "delete") {
      digits = digits.slice(0, -1);
    } else {
      const next = (digits + key).replace(/^0+/, "");
      if (next.length > 12 || Number(next) > MAX) return;
      digits = next;
    }
    saleKey = null;
    chargeError.hidden = true;
    drawAmount();
  }

  function showError(element, text) {
    element.textContent = text;
    element.hidden = false;
  }

  // Its row in the list below, drawn by the server, placed as the live feed places one.
  function placeRow(made) {
    const admin = window.PayDigitalAdmin;
    const container = document.querySelector('[data-live="counter"]');
    if (admin && container) admin.placeRow(container, { payment: made.payment, row: made.row, counter: true });
  }

  // Makes the sale of `value` (one payment for `key`, however often this is called).
  async function charge(value, text, key) {
    const body = { amount: value };
    if (text) body.note = text;
    const response = await fetch("/admin/counter/sales", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify(body),
    });
    if (response.status === 401) {
      window.location.assign("/admin/login");
      return null;
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const message = answer && answer.error ? answer.error.message : "HTTP " + response.status;
      throw new Error(message);
    }
    return answer;
  }

  async function chargeKeyed(event) {
    if (event) event.preventDefault();
    if (charging || sale || amount() < MIN || amount() > MAX) return;
    charging = true;
    saleKey = saleKey || newKey();
    chargeButton.textContent = chargeButton.dataset.busy;
    drawAmount();
    try {
      const made = await charge(amount(), note.value.trim(), saleKey);
      if (made) {
        saleKey = null;
        show(made);
      }
    } catch (e) {
      showError(chargeError, chargeError.dataset.prefix ? chargeError.dataset.prefix + " " + e.message : e.message);
    } finally {
      charging = false;
      chargeButton.textContent = chargeButton.dataset.idle;
      drawAmount();
    }
  }

  // The sale on screen: the widget while it is payable, Paid once it is paid.
  function show(made) {
    sale = made;
    placeRow(made);
    window.history.replaceState(null, "", "/admin/counter?sale=" + encodeURIComponent(made.payment));
    keypadView.hidden = true;
    saleError.hidden = true;
    if (made.status === "paid") {
      // Paid before this page opened (a reload): shown, and said only if that was just now.
      paid(made.total_amount, made.paid_at);
      return;
    }
    // An expired sale (a reload after its code lapsed) offers the new code at once; the
    // widget says so too.
    $("expired-amount").textContent = rupiah(made.amount);
    expired.hidden = made.status !== "expired";
    const widget = document.createElement("paydigital-checkout");
    widget.setAttribute("payment", made.payment);
    widget.setAttribute("lang", LANG);
    widget.setAttribute("poll-interval", "2000");
    slot.replaceChildren(widget);
    saleView.hidden = false;
  }

  // The receipt as a QR the customer scans with their own phone (an image from this origin:
  // the page's CSP allows no other).
  function showReceipt() {
    const figure = $("receipt-qr");
    if (!sale || !sale.receipt_url || !sale.receipt_qr) {
      figure.hidden = true;
      return;
    }
    $("receipt-qr-image").src = sale.receipt_qr;
    $("receipt-qr-url").textContent = sale.receipt_url;
    figure.hidden = false;
  }

  // `paidAt`: server ms by which it surely was paid (admin.js says it only if that is news).
  function paid(total, paidAt) {
    $("paid-total").textContent = rupiah(total);
    showReceipt();
    paidView.hidden = false;
    saleView.hidden = true;
    // The widget's timers stop with it.
    slot.replaceChildren();
    const admin = window.PayDigitalAdmin;
    if (admin && sale) admin.announceOnce(sale.payment, sale.announce, paidAt);
    $("new-sale").focus();
  }

  function newSale() {
    sale = null;
    saleKey = null;
    digits = "";
    note.value = "";
    slot.replaceChildren();
    paidView.hidden = true;
    $("receipt-qr").hidden = true;
    saleView.hidden = true;
    expired.hidden = true;
    chargeError.hidden = true;
    keypadView.hidden = false;
    window.history.replaceState(null, "", "/admin/counter");
    drawAmount();
    chargeButton.focus();
  }

  slot.addEventListener("paydigital:paid", (event) => {
    if (!sale) return;
    const total = event.detail && event.detail.total_amount ? event.detail.total_amount : sale.total_amount;
    const admin = window.PayDigitalAdmin;
    paid(total, admin ? admin.paidBySeen(event.detail && event.detail.paid_at) : null);
  });
  slot.addEventListener("paydigital:expired", () => {
    if (!sale) return;
    $("expired-amount").textContent = rupiah(sale.amount);
    expired.hidden = false;
    $("new-code").focus();
  });

  // The same amount and note again, as a new sale.
  $("new-code").addEventListener("click", async () => {
    if (!sale || charging) return;
    charging = true;
    const again = sale;
    const key = newKey();
    try {
      const made = await charge(again.amount, again.note || "", key);
      if (made) show(made);
    } catch (e) {
      showError(saleError, e.message);
    } finally {
      charging = false;
    }
  });
  $("cancel-sale").addEventListener("click", newSale);
  $("new-sale").addEventListener("click", newSale);
  $("charge-form").addEventListener("submit", chargeKeyed);
  document.querySelector("#keypad-view .keypad").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-key]");
    if (button) press(button.dataset.key);
  });
  note.addEventListener("input", () => { saleKey = null; });
  // The keyboard's digits work as the keypad's, except while typing the note.
  document.addEventListener("keydown", (event) => {
    if (sale || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target === note || keypadView.hidden) return;
    if (/^[0-9]$/.test(event.key)) {
      press(event.key);
      event.preventDefault();
    } else if (event.key === "Backspace" || event.key === "Delete") {
      press("delete");
      event.preventDefault();
    } else if (event.key === "Enter" && event.target.tagName !== "BUTTON") {
      chargeKeyed(event);
    }
  });

  if (root.dataset.sale) {
    try {
      show(JSON.parse(root.dataset.sale));
    } catch (_) {
      newSale();
    }
  } else {
    drawAmount();
  }
})();
