// Receipts in a real browser (Chromium, selenium-webdriver): a cashier's sale is paid and the
// counter's Paid screen shows the receipt as a QR — taken from the screen and decoded by
// zbarimg, it is the payment's receipt_url; the receipt page it opens says LUNAS / PAID and
// passes axe-core in Indonesian and in English (and, like every page, breaks no CSP rule); the
// widget's paid view (on the hosted page, open while the payment was pending) links the receipt.
// The proxy runs with CHECKOUT_PUBLIC_URL set to its own address, so the QR opens it.
// Screenshots: artifacts/receipts/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { By, until } = require("selenium-webdriver");
const { ROOT, PROXY_BIN, accessible, addStaff, decodeQr, driverFor, merchantApi } = require("./support.cjs");

const ARTIFACTS = path.join(ROOT, "artifacts/receipts");
const MERCHANT_KEY = "receipts-e2e-merchant-key-0123456789abcdef";
const CASHIER = ["kasir@toko.example", "kata-sandi-kasir-123"];

let work, proxy;

/** A port free now: the proxy's public address must be known before it starts. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `serve --sandbox` on `port`, its public address that same one; resolves once it listens. */
function startProxy(database, port) {
  const url = `http://127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const child = spawn(PROXY_BIN, ["serve", "--sandbox", "--listen", `127.0.0.1:${port}`], {
      env: { ...process.env, RUST_LOG: "warn", CHECKOUT_DATABASE: database,
             CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"), CHECKOUT_PUBLIC_URL: url,
             CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
             CHECKOUT_UPSTREAM_MAX_RPS: "1000", CHECKOUT_STATUS_REFRESH_MS: "500" },
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the proxy did not start: ${out}`)), 15000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("PayDigital checkout:")) { clearTimeout(timer); resolve({ child, url }); }
    });
    child.stderr.on("data", (chunk) => { out += chunk; });
    child.on("exit", (code) => reject(new Error(`the proxy exited ${code}: ${out}`)));
  });
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "receipts-e2e-"));
  const database = path.join(work, "checkout.sqlite");
  addStaff(database, CASHIER, "cashier");
  proxy = await startProxy(database, await freePort());
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

/** A merchant API read (GET `route`). */
const merchant = (route) => merchantApi(proxy.url, MERCHANT_KEY, "GET", route);

test("chromium: the counter's Paid screen shows the receipt's QR; the receipt page is accessible in both languages", async () => {
  const driver = await driverFor("chromium", [800, 1000]);
  try {
    await driver.get(`${proxy.url}/admin/login`);
    await driver.findElement(By.id("email")).sendKeys(CASHIER[0]);
    await driver.findElement(By.id("password")).sendKeys(CASHIER[1]);
    await driver.findElement(By.css("form.login button")).click();
    await driver.wait(until.urlIs(`${proxy.url}/admin/counter`), 5000, "the counter");
    for (const k of ["2", "5", "000"]) {
      await driver.findElement(By.css(`.keypad button[data-key="${k}"]`)).click();
    }
    await driver.findElement(By.id("charge")).click();
    const widget = await driver.wait(until.elementLocated(By.css("#sale-slot paydigital-checkout")), 10000);
    await driver.wait(async () => (await widget.getAttribute("data-state")) === "pending", 15000, "pending");
    const payment = await merchant(`payments/${await widget.getAttribute("payment")}`);
    assert.match(payment.receipt_url, new RegExp(`^${proxy.url}/r/[A-Za-z0-9_-]{22}$`));
    const paid = await fetch(`${proxy.url}/sandbox/payments/${payment.invoice}/pay`, { method: "POST" });
    assert.ok(paid.ok);

    // Lunas, with the receipt's QR drawn (its image loaded) and its address under it.
    await driver.wait(() => driver.executeScript(`const f = document.getElementById("receipt-qr");
      const img = document.getElementById("receipt-qr-image");
      return !f.hidden && img.complete && img.naturalWidth > 0`), 15000, "the receipt's QR");
    assert.equal(await driver.findElement(By.id("receipt-qr-url")).getText(), payment.receipt_url);
    const screen = path.join(ARTIFACTS, "chromium-paid-receipt-qr.png");
    fs.writeFileSync(screen, await driver.takeScreenshot(), "base64");
    const decoded = decodeQr(screen);
    assert.equal(decoded, payment.receipt_url, "the QR on the Paid screen opens the receipt");
    await accessible(driver, "counter-paid-receipt");

    // The receipt it opens, in Indonesian then in English (the one language switch).
    const token = payment.receipt_url.split("/r/")[1];
    for (const [lang, word] of [["id", "LUNAS"], ["en", "PAID"]]) {
      await driver.get(`${proxy.url}/lang?to=${lang}&back=/r/${token}`);
      await driver.wait(until.urlIs(`${proxy.url}/r/${token}`), 5000, "the receipt");
      assert.equal(await driver.findElement(By.css("html")).getAttribute("lang"), lang);
      assert.equal(await driver.findElement(By.css(".state")).getText(), word);
      await accessible(driver, `receipt-${lang}`);
      fs.writeFileSync(path.join(ARTIFACTS, `chromium-receipt-${lang}.png`), await driver.takeScreenshot(), "base64");
    }
  } finally {
    await driver.quit();
  }
});

test("chromium: the widget's paid view links the receipt (on the hosted page, open since pending)", async () => {
  const driver = await driverFor("chromium");
  try {
    const response = await fetch(`${proxy.url}/api/merchant/payments`, {
      method: "POST",
      headers: { authorization: `Bearer ${MERCHANT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ amount: 12000, description: "Kopi susu" }),
    });
    assert.equal(response.status, 201);
    const payment = await response.json();
    await driver.get(`${proxy.url}/lang?to=id&back=/pay/${payment.id}`);
    const widget = await driver.wait(until.elementLocated(By.css("paydigital-checkout")), 10000);
    await driver.wait(async () => (await widget.getAttribute("data-state")) === "pending", 15000, "pending");
    // A `serve --sandbox` proxy's payment: the page itself says test mode, above the widget.
    const badge = await driver.findElement(By.css("p.test-mode"));
    assert.equal(await badge.getText(), "MODE UJI — tidak ada uang sungguhan");
    // The widget's receipt link, from inside its shadow root: none while the payment is open.
    const receiptLink = () => driver.executeScript(`
      const link = document.querySelector("paydigital-checkout").shadowRoot.querySelector('a[href*="/r/"]');
      return link && { text: link.textContent, href: link.href, target: link.target };`);
    assert.equal(await receiptLink(), null, "no receipt while open");
    const paid = await fetch(`${proxy.url}/sandbox/payments/${payment.invoice}/pay`, { method: "POST" });
    assert.ok(paid.ok);
    await driver.wait(async () => (await widget.getAttribute("data-state")) === "paid", 15000, "paid");
    const link = await driver.wait(receiptLink, 5000, "Lihat struk");
    assert.equal(link.text, "Lihat struk");
    assert.equal(link.href, payment.receipt_url, "the payment's own receipt");
    assert.equal(link.target, "_blank");
    await accessible(driver, "hosted-paid-receipt");
  } finally {
    await driver.quit();
  }
});
