// A shop's own backend, written the way a merchant would: plain node:http, no framework.
// It owns its products, prices and orders; for payment it calls the proxy's merchant API
// with its key and hands the customer the payment (the widget on its order page, or the
// hosted checkout page). It marks an order paid when the proxy's signed webhook says so —
// never on a browser's word — so an order is paid even if the customer closed the tab.
// `make demo` runs it next to the proxy.
//
//   npm install                  # standardwebhooks, to verify the proxy's signatures
//   PROXY_URL=http://127.0.0.1:8080 CHECKOUT_MERCHANT_KEY=... CHECKOUT_WEBHOOK_SECRET=whsec_... \
//     node server.mjs            # and point the proxy's CHECKOUT_WEBHOOK_URL at /webhooks/paydigital
//
// Orders live in memory here; a real shop keeps them in its database.

import http from "node:http";
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

const PROXY_URL = (process.env.PROXY_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const MERCHANT_KEY = process.env.CHECKOUT_MERCHANT_KEY;
const WEBHOOK_SECRET = process.env.CHECKOUT_WEBHOOK_SECRET;
const [HOST, PORT] = (process.env.SHOP_LISTEN || "127.0.0.1:8081").split(":");
if (!MERCHANT_KEY || !WEBHOOK_SECRET) {
  console.error("shop: set CHECKOUT_MERCHANT_KEY and CHECKOUT_WEBHOOK_SECRET (the proxy's)");
  process.exit(2);
}
const webhooks = new Webhook(WEBHOOK_SECRET);
/** webhook-ids already handled: a retried delivery is answered, not applied twice. */
const handled = new Set();

// The shop decides its prices: the browser only says what and how many.
const PRODUCTS = {
  "kopi-susu": { name: "Kopi Susu Gula Aren", price: 25000 },
  "biji-gayo": { name: "Biji Kopi Gayo 250 g", price: 85000 },
  "croissant": { name: "Croissant Pandan", price: 18000 },
};

/** @type {Map<string, {id, lines, total, paymentId, checkoutUrl, status, paidAt, late}>} */
const orders = new Map();

const rupiah = (n) => "Rp " + String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Calls the proxy's merchant API; throws with its error message when it says no. */
async function merchantApi(method, path, body, idempotencyKey) {
  const headers = { Authorization: `Bearer ${MERCHANT_KEY}` };
  if (body) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(`${PROXY_URL}/api/merchant/${path}`, {
    method, headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(30000),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${answer.error.code}: ${answer.error.message}`);
  return answer;
}

/**
 * A webhook from the proxy: verified with the official standardwebhooks package (it checks
 * the HMAC and that the timestamp is recent), applied once per webhook-id. Answered fast:
 * the proxy retries anything that is not 2xx within 15 s.
 */
function onWebhook(body, headers) {
  const event = webhooks.verify(body, headers); // throws on a bad signature
  const id = headers["webhook-id"];
  if (handled.has(id)) return;
  handled.add(id);
  const order = orders.get(event.data.reference);
  if (!order || order.paymentId !== event.data.id) return; // not one of our orders
  if (event.type === "payment.paid") {
    order.status = "paid";
    order.paidAt = event.data.paid_at;
    // Paid after the code expired: the money is there; honour the order (or refund it).
    order.late = event.data.late;
  } else if (event.type === "payment.expired" && order.status !== "paid") {
    order.status = "expired";
  }
  console.log(`shop: ${event.type} for ${order.id} (${id})`);
}

async function placeOrder(form) {
  const lines = [];
  for (const [id, product] of Object.entries(PRODUCTS)) {
    const quantity = Math.min(Math.max(parseInt(form.get(id) || "0", 10) || 0, 0), 20);
    if (quantity > 0) lines.push({ id, name: product.name, quantity, price: product.price });
  }
  if (lines.length === 0) throw new Error("the cart is empty");
  const total = lines.reduce((sum, l) => sum + l.quantity * l.price, 0);
  const id = "ORDER-" + randomBytes(4).toString("hex").toUpperCase();
  const payment = await merchantApi("POST", "payments", {
    amount: total,
    reference: id,
    description: `Kopi Senja ${id}`,
    customer_name: (form.get("name") || "").trim() || "Pelanggan",
    metadata: { items: lines.map((l) => `${l.quantity}x${l.id}`).join(",") },
  }, id);
  const order = { id, lines, total, paymentId: payment.id, checkoutUrl: payment.checkout_url,
                  status: "unpaid", paidAt: null };
  orders.set(id, order);
  return order;
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:560px;margin:0 auto;padding:16px;color:#1f2933}
table{width:100%;border-collapse:collapse}td,th{padding:6px;border-bottom:1px solid #e4e7eb;text-align:left}
.status{font-weight:bold}.paid{color:#0b7a55}.total{font-size:1.2em}button{font:inherit;padding:8px 16px}
input[type=number]{width:4em}</style>
<script src="${PROXY_URL}/checkout/paydigital-checkout.js" defer></script></head>
<body><p><a href="/">☕ Kopi Senja</a> · <a href="/orders">Pesanan</a> · <a href="${PROXY_URL}/sandbox" target="_blank" rel="noopener">Sandbox</a></p>${body}</body></html>`;
}

function cartPage() {
  const rows = Object.entries(PRODUCTS).map(([id, p]) =>
    `<tr><td>${escape(p.name)}</td><td>${rupiah(p.price)}</td>` +
    `<td><input type="number" name="${id}" min="0" max="20" value="${id === "kopi-susu" ? 2 : 0}" aria-label="Jumlah ${escape(p.name)}"></td></tr>`).join("");
  return page("Keranjang · Kopi Senja", `<h1>Keranjang</h1>
<form method="post" action="/orders"><table><tr><th>Produk</th><th>Harga</th><th>Jumlah</th></tr>${rows}</table>
<p><label>Nama <input name="name" value="Budi"></label></p>
<p><button type="submit">Bayar dengan QRIS</button></p></form>
<p><small>The shop's server prices the cart and creates the payment with its merchant key.</small></p>`);
}

const STATUS = { unpaid: "Menunggu pembayaran", paid: "Lunas", expired: "Kedaluwarsa" };

function orderPage(order) {
  const rows = order.lines.map((l) =>
    `<tr><td>${l.quantity} × ${escape(l.name)}</td><td>${rupiah(l.quantity * l.price)}</td></tr>`).join("");
  const status = STATUS[order.status];
  const pay = order.status === "paid" ? "" : `
<paydigital-checkout payment="${escape(order.paymentId)}" endpoint="${PROXY_URL}/api/payments"></paydigital-checkout>
<p><small>Atau bayar di <a href="${escape(order.checkoutUrl || `${PROXY_URL}/pay/${order.paymentId}`)}">halaman pembayaran</a>.</small></p>
<script>
  // The order's status is what this server knows (from the proxy's webhook), never the
  // widget's word: ask it until the order is settled.
  (function () {
    var shown = document.querySelector("[data-order-status]");
    function ask() {
      fetch("/orders/${order.id}.json").then(function (r) { return r.json(); }).then(function (o) {
        shown.dataset.orderStatus = o.status;
        shown.className = "status " + o.status;
        shown.textContent = o.label;
        if (o.status !== "paid") setTimeout(ask, 2000);
      }, function () { setTimeout(ask, 5000); });
    }
    setTimeout(ask, 2000);
  })();
</script>`;
  return page(`${order.id} · Kopi Senja`, `<h1>Pesanan ${escape(order.id)}</h1>
<table>${rows}<tr><td class="total">Total</td><td class="total">${rupiah(order.total)}</td></tr></table>
<p>Status: <span class="status ${order.status}" data-order-status="${order.status}">${status}</span></p>${pay}`);
}

function ordersPage() {
  const rows = [...orders.values()].reverse().map((o) =>
    `<tr><td><a href="/orders/${o.id}">${o.id}</a></td><td>${rupiah(o.total)}</td><td>${o.status}</td></tr>`).join("");
  return page("Pesanan · Kopi Senja", `<h1>Pesanan</h1><table><tr><th>Pesanan</th><th>Total</th><th>Status</th></tr>${rows}</table>`);
}

async function readBody(request) {
  let body = "";
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 1 << 20) throw new Error("body too large");
  }
  return body;
}

async function readForm(request) {
  return new URLSearchParams(await readBody(request));
}

const server = http.createServer(async (request, response) => {
  const send = (status, html, headers = {}) => {
    response.writeHead(status, { "Content-Type": "text/html; charset=utf-8", ...headers });
    response.end(html);
  };
  try {
    const url = new URL(request.url, `http://${request.headers.host}`);
    if (request.method === "GET" && url.pathname === "/") return send(200, cartPage());
    if (request.method === "POST" && url.pathname === "/orders") {
      const order = await placeOrder(await readForm(request));
      return send(303, "", { Location: `/orders/${order.id}` });
    }
    if (request.method === "POST" && url.pathname === "/webhooks/paydigital") {
      const body = await readBody(request);
      try {
        onWebhook(body, request.headers);
      } catch (error) {
        console.error("shop: webhook refused:", error.message);
        return send(400, "bad signature", { "Content-Type": "text/plain" });
      }
      return send(204, "");
    }
    if (request.method === "GET" && url.pathname === "/orders") return send(200, ordersPage());
    const match = url.pathname.match(/^\/orders\/(ORDER-[0-9A-F]+)(\.json)?$/);
    if (request.method === "GET" && match && orders.has(match[1])) {
      const order = orders.get(match[1]);
      if (match[2]) {
        return send(200, JSON.stringify({ status: order.status, label: STATUS[order.status] }),
                    { "Content-Type": "application/json", "Cache-Control": "no-store" });
      }
      return send(200, orderPage(order));
    }
    send(404, page("Tidak ditemukan", "<h1>Tidak ditemukan</h1>"));
  } catch (error) {
    console.error("shop:", error.message);
    send(502, page("Gagal", `<h1>Pembayaran gagal dibuat</h1><p>${escape(error.message)}</p><p><a href="/">Kembali</a></p>`));
  }
});

server.listen(Number(PORT), HOST, () => {
  console.log(`Demo shop backend: http://${HOST}:${server.address().port}/`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
