// The framework examples as a shop's developer builds them (issue 33): examples/react (React 19,
// Vite, StrictMode, development build: every effect mounts, unmounts and mounts again) and
// examples/vue (Vue 3, Vite, the custom element), each served from its own origin with the
// widget from a sandbox proxy on another, driven in headless Chromium. Payments are counted at
// the sandbox (its upstream creates) once the widget shows the payment.
//
// Run by `make test-frameworks` (which builds both first).
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { ROOT, driverFor, startProxy, waitFor } = require("../e2e/support.cjs");

let work, proxy, driver;
const servers = [];

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css" };

/** A built example's dist/ on a port of its own: the shop's origin. */
function serve(dir) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const name = new URL(req.url, "http://x").pathname;
      const file = path.join(dir, name === "/" ? "index.html" : path.normalize(name));
      if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
      fs.createReadStream(file).pipe(res);
    });
    servers.push(server);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

async function creates() {
  const calls = await (await fetch(`${proxy.url}/sandbox/calls`)).json();
  return calls.endpoints.create_payment || 0;
}

/** The payment a checkout shows once pending: its invoice and total. */
async function pending(selector) {
  return waitFor(`${selector} pending`, 30000, () => driver.executeScript(`
    const el = document.querySelector(arguments[0]);
    const code = el && el.shadowRoot && el.shadowRoot.querySelector(".pd-invoice code");
    const amount = el && el.shadowRoot && el.shadowRoot.querySelector(".pd-amount");
    return el && el.getAttribute("data-state") === "pending" && code && el.shadowRoot.querySelector(".pd-qr svg")
      ? { invoice: code.textContent.trim(), label: el.shadowRoot.querySelector(".pd-qr svg").getAttribute("aria-label")
          || (amount ? amount.textContent : "") } : null;`, selector));
}

/** The total the QR is for, from its label ("… Rp 12.345"): the widget draws a QR only after
 * checking that its amount (QRIS tag 54) equals this total. */
function totalOf(shown) {
  const match = shown.label.match(/Rp ([0-9.]+)/);
  assert.ok(match, shown.label);
  return Number(match[1].replace(/\./g, ""));
}

function inRange(total, amount) {
  assert.ok(total > amount && total < amount + 1000, `${total} is ${amount} plus a unique code`);
}

function click(selector) {
  return driver.executeScript(`document.querySelector(arguments[0]).click()`, selector);
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-frameworks-"));
  proxy = await startProxy(path.join(work, "checkout.sqlite"), {
    CHECKOUT_ALLOWED_ORIGINS: "*", CHECKOUT_CREATES_PER_MINUTE: "10000",
  });
  driver = await driverFor("chromium", [800, 1000]);
});

after(async () => {
  if (driver) await driver.quit();
  servers.forEach((s) => s.close());
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

test("React 19 StrictMode: one payment per order, a new amount shows its own QR, a modal reopened resumes", async () => {
  const shop = await serve(path.join(ROOT, "examples/react/dist"));
  const before = await creates();
  await driver.get(`${shop}/?proxy=${encodeURIComponent(proxy.url)}`);
  const cart = await pending("#cart-checkout");
  inRange(totalOf(cart), 12000);
  assert.equal(await creates(), before + 1, "the cart's element: one payment");

  // The Pay button's modal: StrictMode runs its effect twice (mount, destroy, mount).
  await click("#pay");
  const modal = await pending("#modal-checkout");
  assert.ok(await driver.executeScript("return window.pdEffectRuns") >= 2, "StrictMode mounted twice");
  assert.equal(await creates(), before + 2, "the modal: one payment for two mounts");

  // Closed and opened again: the same payment, no create.
  await click("#close");
  await waitFor("the modal closed", 10000, () => driver.executeScript(`return !document.querySelector("#modal-checkout")`));
  await click("#pay");
  assert.equal((await pending("#modal-checkout")).invoice, modal.invoice);
  assert.equal(await creates(), before + 2, "reopened: no new payment");

  // A prop changes: the old QR goes, the new order's comes (its own payment and total).
  await click("#more");
  const changed = await pending("#cart-checkout");
  assert.notEqual(changed.invoice, cart.invoice);
  inRange(totalOf(changed), 24000);
  assert.equal(await creates(), before + 3);
});

test("Vue 3: the custom element, a changed amount, unmounted and mounted again", async () => {
  const shop = await serve(path.join(ROOT, "examples/vue/dist"));
  const before = await creates();
  await driver.get(`${shop}/?proxy=${encodeURIComponent(proxy.url)}`);
  const first = await pending("#cart-checkout");
  assert.equal(await creates(), before + 1);
  await waitFor("Vue heard paydigital:created", 10000, () => driver.executeScript(
    `return document.querySelector("#events").textContent.includes("created 12")`));

  await click("#more");
  const second = await pending("#cart-checkout");
  assert.notEqual(second.invoice, first.invoice);
  inRange(totalOf(second), 24000);
  assert.equal(await creates(), before + 2);

  // v-if off and on: a new element for the same order resumes its payment.
  await click("#toggle");
  await waitFor("unmounted", 10000, () => driver.executeScript(`return !document.querySelector("#cart-checkout")`));
  await click("#toggle");
  assert.equal((await pending("#cart-checkout")).invoice, second.invoice);
  assert.equal(await creates(), before + 2, "mounted again: no new payment");
});
