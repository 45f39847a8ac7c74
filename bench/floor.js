// The plain-JS floor for `bench/time-to-qr.cjs` (issue 23): the widget's first screen — the
// amount to pay, the QR, the invoice, a countdown — against the same proxy API, in about a
// hundred lines of hand-written JavaScript, with the QR drawn by npm `qrcode`. It is what a
// shop could write itself without any framework or wasm, so it is the time to beat; it is not
// shipped. esbuild bundles it with qrcode into one classic script, loaded like the loader
// (`<script src=... defer>`), served by the proxy from the same folder with the same headers.
import QRCode from "qrcode";

const STYLE = `
.pd{font:15px/1.4 system-ui,sans-serif;max-width:22em;margin:auto;text-align:center}
.pd-card{border:1px solid #ddd;border-radius:12px;padding:1em}
.pd-total{font-size:1.6em;font-weight:700}
.pd-qr svg{width:16em;height:16em}
.pd-error{color:#a00}`;

function rupiah(n) {
  return "Rp " + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

function countdown(secs) {
  const m = Math.floor(secs / 60), s = secs % 60;
  return m + ":" + String(s).padStart(2, "0");
}

function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

class FloorCheckout extends HTMLElement {
  connectedCallback() {
    this.setAttribute("data-state", "loading");
    const shadow = this.shadowRoot || this.attachShadow({ mode: "open" });
    shadow.textContent = "";
    const style = el("style");
    style.textContent = STYLE;
    this.root = el("div", "pd");
    this.status = el("p", "pd-status", "Memuat…");
    this.status.setAttribute("role", "status");
    this.root.append(this.status);
    shadow.append(style, this.root);
    this.abort = new AbortController();
    this.create().catch((error) => this.fail(String(error && error.message || error)));
  }

  disconnectedCallback() {
    this.abort.abort();
    clearInterval(this.ticker);
  }

  async create() {
    const endpoint = this.getAttribute("endpoint") || "/api/payments";
    const body = { amount: Number(this.getAttribute("amount")) };
    for (const [attr, key] of [["description", "description"], ["customer-name", "customer_name"], ["reference", "reference"]]) {
      if (this.hasAttribute(attr)) body[key] = this.getAttribute(attr);
    }
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": randomKey() },
      body: JSON.stringify(body),
      signal: this.abort.signal,
    });
    const payment = await response.json();
    if (!response.ok) throw new Error(payment.error ? payment.error.message : "HTTP " + response.status);
    this.show(payment);
  }

  show(payment) {
    const card = el("div", "pd-card");
    card.append(el("p", "pd-total", rupiah(payment.total_amount)));
    const qr = el("div", "pd-qr");
    QRCode.toString(payment.qr_content, { type: "svg", errorCorrectionLevel: "M", margin: 2 }, (error, svg) => {
      if (error) throw error;
      qr.innerHTML = svg;
    });
    card.append(qr);
    const invoice = el("p", "pd-invoice");
    invoice.append("Invoice ", el("code", "", payment.invoice));
    card.append(invoice);
    const left = el("p", "pd-countdown");
    card.append(left);
    const until = Date.now() + payment.expires_in * 1000;
    const tick = () => { left.textContent = countdown(Math.max(0, Math.round((until - Date.now()) / 1000))); };
    tick();
    this.ticker = setInterval(tick, 1000);
    this.status.textContent = "Menunggu pembayaran";
    this.root.append(card);
    this.setAttribute("data-state", "pending");
    this.dispatchEvent(new CustomEvent("paydigital:created", { bubbles: true, composed: true, detail: payment }));
  }

  fail(message) {
    this.status.textContent = message;
    this.status.className = "pd-status pd-error";
    this.setAttribute("data-state", "error");
  }
}

if (!customElements.get("floor-checkout")) customElements.define("floor-checkout", FloorCheckout);
