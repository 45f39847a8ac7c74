// End to end, as a shopper does it: headless Chromium (driven by playwright-core) through the
// demo shop, the sandbox's customer page in a second tab, a reload, an expiry, a proxy that
// goes down and comes back, and a shop on another origin with hostile global CSS. The QR on
// screen is decoded from a screenshot by an independent decoder (zbarimg) and compared with
// what the sandbox issued. Screenshots of each state go to artifacts/e2e/.
//
// Run by `make test` (or `make test-e2e`): node --test e2e/
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");
const { decodeQr, driverFor, waitFor } = require("./support.cjs");

const ROOT = path.resolve(__dirname, "..");
const PROXY_BIN = path.join(ROOT, "target/debug/paydigital-proxy");
const ARTIFACTS = path.join(ROOT, "artifacts/e2e");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

let work, sandbox, proxy, browser, otherOrigin, shop, shopOrigin;
const MERCHANT_KEY = "e2e-merchant-key-0123456789abcdef0123";
const WEBHOOK_SECRET = "whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=";

/** A port nobody listens on now (for the shop, whose origin the proxy must know first). */
function freePort() {
  return new Promise((resolve) => {
    const probe = http.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The demo shop's own backend (examples/shop), talking to the proxy's merchant API. */
function startShop(port) {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [path.join(ROOT, "examples/shop/server.mjs")], {
      env: { ...process.env, PROXY_URL: proxy.url, CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
             CHECKOUT_WEBHOOK_SECRET: WEBHOOK_SECRET, SHOP_LISTEN: `127.0.0.1:${port}` },
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the shop did not start: ${out}`)), 15000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("Demo shop backend: ")) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${port}` });
      }
    });
    child.stderr.on("data", (chunk) => { out += chunk; });
    child.on("exit", (code) => reject(new Error(`the shop exited ${code}: ${out}`)));
  });
}

/** Starts a paydigital-proxy subcommand and resolves with its process and base URL. */
function start(args, env, urlPrefix) {
  return new Promise((resolve, reject) => {
    const child = spawn(PROXY_BIN, args, { env: { ...process.env, RUST_LOG: "warn", ...env } });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${out}`)), 15000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(new RegExp(`${urlPrefix}(http://[0-9.:]+)`));
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
    child.stderr.on("data", () => {});
    child.on("exit", (code) => reject(new Error(`${args[0]} exited ${code}: ${out}`)));
  });
}

function stop(server) {
  return new Promise((resolve) => {
    if (!server || server.child.exitCode !== null) return resolve();
    server.child.removeAllListeners("exit");
    server.child.on("exit", () => resolve());
    server.child.kill("SIGTERM");
  });
}

/** The proxy as a shop runs it (live mode, PayDigital elsewhere: the sandbox process). A live
 * proxy serves no storefront at `/`: the demo page is opened as the built file it is. */
async function startProxy(listen) {
  return start(["serve", "--listen", listen], {
    PAYDIGITAL_BASE_URL: sandbox.url,
    PAYDIGITAL_API_KEY: "sandbox-secret-key",
    PAYDIGITAL_STORE_ID: "SANDBOX-STORE",
    CHECKOUT_DATABASE: path.join(work, "checkout.sqlite"),
    CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"),
    CHECKOUT_STATUS_REFRESH_MS: "300",
    CHECKOUT_UPSTREAM_MAX_RPS: "1000",
    CHECKOUT_CREATES_PER_MINUTE: "1000",
    CHECKOUT_ALLOWED_ORIGINS: `${otherOrigin.url},${shopOrigin}`,
    CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
    CHECKOUT_WEBHOOK_URL: `${shopOrigin}/webhooks/paydigital`,
    CHECKOUT_WEBHOOK_SECRET: WEBHOOK_SECRET,
  }, "PayDigital checkout: ");
}

/** A shop on another origin, with CSS that tries hard to break whatever it embeds. */
function startOtherOrigin() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<style>
  * { all: unset; display: block !important; font: 900 40px/1 Impact, fantasy !important;
      color: #f0f !important; background: #ff0 !important; }
  svg, button, a, img, canvas { display: none !important; }
  div { transform: rotate(3deg) !important; padding: 30px !important; }
  head, style, script { display: none !important; }
</style>
<script src="${proxy.url}/checkout/paydigital-checkout.js" defer></script>
<script type="module" src="${proxy.url}/checkout/paydigital-checkout.js?again"></script></head>
<body><h1>Toko Lain</h1>
<paydigital-checkout endpoint="${proxy.url}/api/payments" amount="50000"
  description="Hostile CSS" reference="OTHER-ORIGIN"></paydigital-checkout></body></html>`);
    });
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, url: `http://127.0.0.1:${server.address().port}` });
    });
  });
}

async function sandboxPayments() {
  const response = await fetch(`${sandbox.url}/sandbox/payments`);
  return response.json();
}

async function shot(locator, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await locator.screenshot({ path: file });
  return file;
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 2 });
  return context.newPage();
}

/** Opens the demo shop and buys the first product; resolves with the widget's locator. */
async function buyCoffee(page) {
  await page.goto(`${proxy.url}/checkout/index.html`);
  await page.getByRole("button", { name: "Beli" }).first().click();
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor();
  assert.equal(await widget.getAttribute("data-state"), "pending");
  return widget;
}

async function invoiceOf(widget) {
  return (await widget.locator(".pd-invoice code").first().textContent()).trim();
}

async function issuedPayload(invoice) {
  const payment = (await sandboxPayments()).find((p) => p.invoice === invoice);
  assert.ok(payment, `the sandbox issued ${invoice}`);
  return payment.qr_content;
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-e2e-"));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  sandbox = await start(["sandbox", "--listen", "127.0.0.1:0"], {}, "Sandbox PayDigital: ");
  otherOrigin = await startOtherOrigin();
  const shopPort = await freePort();
  shopOrigin = `http://127.0.0.1:${shopPort}`;
  proxy = await startProxy("127.0.0.1:0");
  shop = await startShop(shopPort);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Every page of every context listens for CSP violations before its own scripts run.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await watchPolicy(context);
    return context;
  };
});

/** Every CSP violation any page of the run reported: the last test says there were none. */
const policyViolations = [];

async function watchPolicy(context) {
  await context.exposeBinding("__reportPolicyViolation", ({ page }, text) => {
    policyViolations.push(`${page.url()}: ${text}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__reportPolicyViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
    }, true);
  });
}

after(async () => {
  if (browser) await browser.close();
  await stop(shop);
  await stop(proxy);
  await stop(sandbox);
  if (otherOrigin) otherOrigin.server.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test("a shopper buys, scans the QR, pays from the sandbox page and sees paid", async () => {
  const page = await newPage();
  const widget = await buyCoffee(page);
  const invoice = await invoiceOf(widget);
  await shot(page.locator("dialog"), "1-pending");
  const onScreen = decodeQr(await shot(widget.locator(".pd-qr"), "qr"));
  assert.equal(onScreen, await issuedPayload(invoice), "the QR on screen is the one issued");
  assert.match(await widget.locator(".pd-amount").textContent(), /^Rp \d{2}\.\d{3}$/);

  // The customer's side, in a second tab.
  const customer = await page.context().newPage();
  await customer.goto(`${sandbox.url}/sandbox`);
  await customer.locator("tr", { hasText: invoice }).getByRole("button", { name: /Bayar/ }).click();
  await widget.locator(".pd-paid").waitFor({ timeout: 15000 });
  assert.equal(await widget.getAttribute("data-state"), "paid");
  assert.match(await widget.locator(".pd-title").textContent(), /Pembayaran berhasil/);
  await shot(page.locator("dialog"), "2-paid");
  await page.context().close();
});

test("the saved QR image and the copy buttons give the customer what they need", async () => {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, acceptDownloads: true });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: proxy.url });
  const page = await context.newPage();
  const widget = await buyCoffee(page);
  const invoice = await invoiceOf(widget);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    widget.getByRole("button", { name: "Simpan gambar QR" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `QRIS-${invoice}.png`);
  const saved = path.join(ARTIFACTS, "saved-qr.png");
  await download.saveAs(saved);
  assert.equal(decodeQr(saved), await issuedPayload(invoice), "the saved PNG scans to the issued code");

  const total = (await widget.locator(".pd-amount").textContent()).replace(/\D/g, "");
  await widget.getByRole("button", { name: "Salin jumlah" }).click();
  await widget.getByRole("button", { name: "Salin jumlah" }).filter({ hasText: "Tersalin" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), total);
  await widget.getByRole("button", { name: "Salin nomor invoice" }).click();
  await widget.getByRole("button", { name: "Salin nomor invoice" }).filter({ hasText: "Tersalin" }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), invoice);
  await context.close();
});

test("fits a 280 px phone, follows the shop's theme, and works from the keyboard", async () => {
  const context = await browser.newContext({ viewport: { width: 280, height: 700 }, deviceScaleFactor: 2 });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: proxy.url });
  const page = await context.newPage();
  await page.goto(`${proxy.url}/checkout/index.html`);
  // The shop's own stylesheet themes the widget (through CSSOM: the demo page's policy, like
  // a careful shop's, allows no inline <style>).
  await page.evaluate(() => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync("paydigital-checkout { --pd-accent: rgb(200, 30, 60); }");
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  });
  await page.getByRole("button", { name: "Beli" }).first().click();
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor();
  const overflow = await widget.evaluate((host) => {
    const card = host.shadowRoot.querySelector(".pd-card");
    return { card: card.scrollWidth - card.clientWidth, host: host.getBoundingClientRect().width };
  });
  assert.ok(overflow.card <= 0, `nothing sticks out of the card at 280 px (${overflow.card} px)`);
  assert.ok(overflow.host <= 280, `the widget fits the screen (${overflow.host} px)`);
  const qrWidth = await widget.locator(".pd-qr").evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(qrWidth >= 180, `the QR stays scannable (${qrWidth} px)`);
  await shot(page.locator("dialog"), "6-narrow-themed");
  const accent = await widget.getByRole("button", { name: "Simpan gambar QR" })
    .evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(accent, "rgb(200, 30, 60)", "--pd-accent themes the buttons");
  // Keyboard only: focus the amount's copy button and press Enter.
  await widget.getByRole("button", { name: "Salin jumlah" }).focus();
  await page.keyboard.press("Enter");
  await widget.getByRole("button", { name: "Salin jumlah" }).filter({ hasText: "Tersalin" }).waitFor();
  await page.keyboard.press("Tab");
  const focused = await widget.evaluate((host) => host.shadowRoot.activeElement && host.shadowRoot.activeElement.textContent);
  assert.ok(focused, "Tab moves on to the next control inside the widget");
  await context.close();
});

test("a reload mid-payment shows the same payment and the same QR", async () => {
  const page = await newPage();
  let widget = await buyCoffee(page);
  const invoice = await invoiceOf(widget);
  const first = decodeQr(await shot(widget.locator(".pd-qr"), "qr-before-reload"));
  const created = (await sandboxPayments()).length;
  await page.reload();
  widget = await buyCoffee(page);
  assert.equal(await invoiceOf(widget), invoice);
  assert.equal(decodeQr(await shot(widget.locator(".pd-qr"), "qr-after-reload")), first);
  assert.equal((await sandboxPayments()).length, created, "no second payment upstream");
  await page.context().close();
});

test("an expired payment hides the QR and offers a new one", async () => {
  const page = await newPage();
  await page.goto(`${proxy.url}/checkout/index.html`);
  await page.getByRole("button", { name: "Beli" }).nth(1).click();
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor();
  const invoice = await invoiceOf(widget);
  const response = await fetch(`${sandbox.url}/sandbox/payments/${invoice}/expire`, { method: "POST" });
  assert.equal(response.status, 200);
  await widget.locator(".pd-expired").waitFor({ timeout: 15000 });
  assert.equal(await widget.locator(".pd-qr").count(), 0);
  await shot(page.locator("dialog"), "3-expired");
  await widget.getByRole("button", { name: "Buat kode baru" }).click();
  await widget.locator(".pd-qr svg").waitFor();
  assert.notEqual(await invoiceOf(widget), invoice);
  await page.context().close();
});

test("the proxy goes down and comes back: reconnecting, then paid", async () => {
  const page = await newPage();
  const widget = await buyCoffee(page);
  const invoice = await invoiceOf(widget);
  const listen = new URL(proxy.url).host;
  await stop(proxy);
  await widget.locator(".pd-status", { hasText: "mencoba lagi" }).waitFor({ timeout: 20000 });
  assert.equal(await widget.getAttribute("data-state"), "pending", "a blip is not an error");
  await shot(page.locator("dialog"), "4-reconnecting");
  await fetch(`${sandbox.url}/sandbox/payments/${invoice}/pay`, { method: "POST" });
  proxy = await startProxy(listen);
  await widget.locator(".pd-paid").waitFor({ timeout: 40000 });
  await page.context().close();
});

test("on another origin, hostile global CSS cannot break the widget", async () => {
  const page = await newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // The page loads the loader twice, as a classic and as a module script.
  await page.goto(otherOrigin.url);
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor({ timeout: 20000 });
  assert.ok(await widget.locator(".pd-qr svg").isVisible(), "the QR is visible");
  assert.ok(await widget.getByRole("button", { name: "Save QR image" }).isVisible(), "its buttons are visible");
  const invoice = await invoiceOf(widget);
  assert.equal(decodeQr(await shot(widget.locator(".pd-qr"), "qr-other-origin")), await issuedPayload(invoice));
  const color = await widget.locator(".pd-amount").evaluate((e) => getComputedStyle(e).color);
  assert.notEqual(color, "rgb(255, 0, 255)", "the page's colours do not leak in");
  // Sizes follow the widget, not the page's root font size (40px here).
  const size = await widget.locator(".pd-amount").evaluate((e) => getComputedStyle(e).fontSize);
  assert.equal(size, "32px");
  await shot(widget, "5-other-origin");
  assert.equal(await page.locator("paydigital-checkout").count(), 1);
  assert.equal(await widget.locator(".pd").count(), 1, "mounted once, though loaded twice");
  assert.deepEqual(errors, [], "no script errors");
  await page.context().close();
});

/** Collects what would say the page is broken: script errors and CSP violations. */
function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  // Which address a "Failed to load resource" console line was about.
  page.on("response", (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" || /Content.Security.Policy/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  return errors;
}

test("the shop's server sells a cart: the order page shows the payment and turns paid", async () => {
  const page = await newPage();
  const errors = watchErrors(page);
  await page.goto(`${shop.url}/`);
  await page.getByRole("button", { name: "Bayar dengan QRIS" }).click();
  await page.waitForURL(/\/orders\/ORDER-/);
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor({ timeout: 20000 });
  assert.equal(await page.locator("[data-order-status]").getAttribute("data-order-status"), "unpaid");
  // Two Kopi Susu at the shop's price: Rp 50.000 plus PayDigital's unique code.
  const invoice = await invoiceOf(widget);
  const issued = (await sandboxPayments()).find((p) => p.invoice === invoice);
  assert.equal(issued.amount, 50000);
  assert.equal(decodeQr(await shot(widget.locator(".pd-qr"), "qr-shop-order")), issued.qr_content);
  await fetch(`${sandbox.url}/sandbox/payments/${invoice}/pay`, { method: "POST" });
  // The widget sees paid; the order page shows what the shop's server heard by webhook.
  await widget.locator(".pd-paid").waitFor({ timeout: 20000 });
  await page.locator("[data-order-status=paid]").waitFor({ timeout: 30000 });
  assert.deepEqual(errors, [], "no script errors");
  await page.context().close();
});

test("the customer closes the tab before paying: the order is paid by the webhook alone", async () => {
  const page = await newPage();
  await page.goto(`${shop.url}/`);
  await page.getByRole("button", { name: "Bayar dengan QRIS" }).click();
  await page.waitForURL(/\/orders\/ORDER-/);
  const orderUrl = page.url();
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor({ timeout: 20000 });
  const invoice = await invoiceOf(widget);
  await page.context().close(); // no browser watches this payment any more
  await fetch(`${sandbox.url}/sandbox/payments/${invoice}/pay`, { method: "POST" });
  // The proxy finds out by itself and tells the shop's server; later the customer looks.
  const status = async () => (await (await fetch(`${orderUrl}.json`)).json()).status;
  const deadline = Date.now() + 30000;
  while ((await status()) !== "paid" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.equal(await status(), "paid", "the shop's server heard it by webhook");
  const later = await newPage();
  await later.goto(orderUrl);
  assert.equal(await later.locator("[data-order-status]").getAttribute("data-order-status"), "paid");
  assert.equal(await later.locator("paydigital-checkout").count(), 0, "nothing left to pay");
  await later.context().close();
});

test("the hosted page /pay/{id} runs the widget under its strict CSP, in the customer's language", async () => {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const created = await fetch(`${proxy.url}/api/merchant/payments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${MERCHANT_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ amount: 64000, reference: "HOSTED-1", description: "Pesanan HOSTED-1" }),
  });
  assert.equal(created.status, 201);
  const payment = await created.json();
  const response = await page.goto(`${proxy.url}/pay/${payment.id}`);
  assert.match(response.headers()["content-security-policy"], /script-src 'self' 'wasm-unsafe-eval'/);
  const widget = page.locator("paydigital-checkout");
  await widget.locator(".pd-qr svg").waitFor({ timeout: 20000 });
  assert.equal(await page.locator("html").getAttribute("lang"), "en");
  // This proxy talks to a separate sandbox process as if it were PayDigital: it is live, and
  // its page says nothing of test mode (a `serve --sandbox` page does: e2e/receipts.test.cjs).
  assert.equal(await page.locator("p.test-mode").count(), 0);
  assert.equal(await widget.locator(".pd-label").textContent(), "Pay exactly this amount");
  assert.equal(decodeQr(await shot(widget.locator(".pd-qr"), "qr-hosted")), payment.qr_content);
  await shot(page.locator("main"), "7-hosted-page");
  await fetch(`${sandbox.url}/sandbox/payments/${payment.invoice}/expire`, { method: "POST" });
  await widget.locator(".pd-expired").waitFor({ timeout: 20000 });
  assert.equal(await widget.locator(".pd-expired button").count(), 0, "no new code on a shop's order");
  assert.deepEqual(errors, [], "no CSP violation, no script error");
  await context.close();
});

// The same shopper in WebKit (Safari's engine: every browser on an iPhone), driven through
// WebKitWebDriver by selenium-webdriver (e2e/support.cjs): the QR on screen decoded by zbarimg,
// paid, resumed after a reload, expired and renewed. Playwright's own WebKit is a download
// this project does not make; Debian's WebKitGTK is the engine here.

/** Reads `script` (a function body given the widget's shadow root as `root`) in the page. */
function inWidget(driver, script) {
  return driver.executeScript(`const host = document.querySelector("paydigital-checkout");
    const root = host && host.shadowRoot; if (!root) return null; ${script}`);
}

/** The QR on screen, decoded by zbarimg from a screenshot of the whole window (taken again
 * until it scans, for up to 10 s: a screenshot may catch a frame mid-paint). */
async function webkitQr(driver, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  return waitFor(`a scannable QR in ${name}`, 10000, async () => {
    await inWidget(driver, `root.querySelector(".pd-qr").scrollIntoView({ block: "center" }); return true;`);
    fs.writeFileSync(file, Buffer.from(await driver.takeScreenshot(), "base64"));
    try { return decodeQr(file); } catch { return null; }
  });
}

/** Opens the demo shop in `driver` and buys product `nth`; resolves with the invoice shown. */
async function webkitBuy(driver, nth = 0) {
  await driver.get(`${proxy.url}/checkout/index.html`);
  await driver.executeScript(`document.querySelectorAll(".product .buy")[${nth}].click()`);
  return webkitPending(driver);
}

/** Waits for the pending view (its QR drawn) and resolves with its invoice. */
async function webkitPending(driver) {
  return waitFor("the QR in WebKit", 20000, () => inWidget(driver,
    `return root.querySelector(".pd-qr svg") && host.dataset.state === "pending"
      ? root.querySelector(".pd-invoice code").textContent.trim() : null;`));
}

test("WebKit: the QR on screen scans to the issued code, and paying turns it paid", async () => {
  const driver = await driverFor("webkit", [420, 900]);
  try {
    const invoice = await webkitBuy(driver);
    assert.equal(await webkitQr(driver, "webkit-qr"), await issuedPayload(invoice), "the QR on screen is the one issued");
    const amount = await inWidget(driver, `return root.querySelector(".pd-amount").textContent;`);
    assert.match(amount, /^Rp \d{2}\.\d{3}$/);
    await fetch(`${sandbox.url}/sandbox/payments/${invoice}/pay`, { method: "POST" });
    await waitFor("paid in WebKit", 20000, () => inWidget(driver, `return host.dataset.state === "paid"
      && /Pembayaran berhasil/.test(root.querySelector(".pd-title").textContent);`));
    fs.writeFileSync(path.join(ARTIFACTS, "webkit-paid.png"), Buffer.from(await driver.takeScreenshot(), "base64"));
  } finally {
    await driver.quit();
  }
});

test("WebKit: a reload resumes the same payment; an expired one offers a new code", async () => {
  const driver = await driverFor("webkit", [420, 900]);
  try {
    const invoice = await webkitBuy(driver, 2);
    const created = (await sandboxPayments()).length;
    await driver.navigate().refresh();
    assert.equal(await webkitBuy(driver, 2), invoice, "the same payment after a reload");
    assert.equal(await webkitQr(driver, "webkit-qr-after-reload"), await issuedPayload(invoice));
    assert.equal((await sandboxPayments()).length, created, "no second payment upstream");

    const response = await fetch(`${sandbox.url}/sandbox/payments/${invoice}/expire`, { method: "POST" });
    assert.equal(response.status, 200);
    await waitFor("expired in WebKit", 20000, () => inWidget(driver,
      `return host.dataset.state === "expired" && !root.querySelector(".pd-qr");`));
    fs.writeFileSync(path.join(ARTIFACTS, "webkit-expired.png"), Buffer.from(await driver.takeScreenshot(), "base64"));
    await inWidget(driver, `root.querySelector(".pd-expired button").click(); return true;`);
    const renewed = await webkitPending(driver);
    assert.notEqual(renewed, invoice, "a new code is a new payment");
    assert.equal(await webkitQr(driver, "webkit-qr-renewed"), await issuedPayload(renewed));
  } finally {
    await driver.quit();
  }
});

test("no page of the demo shop, the hosted page or the sandbox reported a CSP violation", () => {
  assert.deepEqual(policyViolations, []);
});
