// The shopper on a phone (issue 34), in Chromium (with touch and a phone's screen), Firefox and
// WebKit (Safari's engine, e2e/support.cjs): both themes pass axe-core with the QR on screen
// decoded by zbarimg, a sandbox payment says MODE UJI, the long-pressable QR image decodes to
// the issued code, and `theme="auto"` follows the phone's dark setting. Screenshots of both
// themes and the phone view go to docs/screenshots/ (from Chromium) and artifacts/e2e/.
//
// Run by `make test-e2e`: node --test e2e/
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ROOT, accessible, decodeQr, driverFor, startProxy, waitFor } = require("./support.cjs");

const ARTIFACTS = path.join(ROOT, "artifacts/e2e");
const SCREENSHOTS = path.join(ROOT, "docs/screenshots");
const BROWSERS = (process.env.BROWSERS || "chromium firefox webkit").split(/\s+/).filter(Boolean);
let work, proxy;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-phone-"));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // `serve --sandbox`: its payments say `livemode: false`.
  proxy = await startProxy(path.join(work, "checkout.sqlite"), { CHECKOUT_CREATES_PER_MINUTE: "1000" });
});

after(() => {
  if (proxy) proxy.child.kill();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The sandbox's own record of `invoice` (what it issued). */
async function issued(invoice) {
  const payments = await (await fetch(`${proxy.url}/sandbox/payments`)).json();
  const payment = payments.find((p) => p.invoice === invoice);
  assert.ok(payment, `the sandbox issued ${invoice}`);
  return payment;
}

/** Puts a checkout with `attributes` on a page of the proxy's (the loader from /checkout/),
 * on a `background`, and waits for its QR; resolves with the invoice shown. */
async function showCheckout(driver, attributes, background = "#ffffff") {
  await driver.get(`${proxy.url}/checkout/index.html`);
  await driver.executeScript(`
    document.body.innerHTML = "";
    document.body.style.background = arguments[1];
    document.body.style.margin = "0";
    const main = document.createElement("main");
    main.setAttribute("aria-label", "Pembayaran");
    main.style.padding = "12px";
    const element = document.createElement("paydigital-checkout");
    for (const [name, value] of Object.entries(arguments[0])) element.setAttribute(name, value);
    main.appendChild(element);
    document.body.appendChild(main);`, { endpoint: "/api/payments", ...attributes }, background);
  return waitFor("the pending view", 20000, () => driver.executeScript(`
    const host = document.querySelector("paydigital-checkout"), root = host && host.shadowRoot;
    return root && host.dataset.state === "pending" && root.querySelector(".pd-qr svg, .pd-qr img[src]")
      ? root.querySelector(".pd-invoice code").textContent.trim() : null;`));
}

/** A screenshot of the whole window into `file`, the QR scrolled into view first. */
async function windowShot(driver, file) {
  await driver.executeScript(`document.querySelector("paydigital-checkout").shadowRoot
    .querySelector(".pd-qr").scrollIntoView({ block: "center" })`);
  fs.writeFileSync(file, Buffer.from(await driver.takeScreenshot(), "base64"));
  return file;
}

/** Makes Chromium a phone: a 390-px touch screen with a phone's user agent. */
async function chromiumPhone(driver) {
  await driver.sendDevToolsCommand("Emulation.setDeviceMetricsOverride",
    { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
  await driver.sendDevToolsCommand("Emulation.setTouchEmulationEnabled", { enabled: true, maxTouchPoints: 5 });
  await driver.sendDevToolsCommand("Emulation.setUserAgentOverride", { userAgent:
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36" });
}

for (const browser of BROWSERS) {
  test(`${browser}: light and dark themes pass axe, say MODE UJI, and keep a scannable QR`, async () => {
    const driver = await driverFor(browser, [420, 900]);
    try {
      for (const [theme, background] of [["light", "#ffffff"], ["dark", "#0b1118"]]) {
        const invoice = await showCheckout(driver, { amount: "10000", theme }, background);
        const seen = await driver.executeScript(`const root = document.querySelector("paydigital-checkout").shadowRoot;
          return { badge: root.querySelector(".pd-test").textContent,
                   card: getComputedStyle(root.querySelector(".pd-card")).backgroundColor };`);
        assert.equal(seen.badge, "MODE UJI", `${theme}: a sandbox payment says so`);
        assert.equal(seen.card, theme === "dark" ? "rgb(27, 36, 48)" : "rgb(255, 255, 255)", theme);
        await accessible(driver, `${browser} ${theme}`);
        const shot = await windowShot(driver, path.join(ARTIFACTS, `phone-${browser}-${theme}.png`));
        assert.equal(decodeQr(shot), (await issued(invoice)).qr_content, `${theme}: the QR scans`);
        if (browser === "chromium") fs.copyFileSync(shot, path.join(SCREENSHOTS, `theme-${theme}.png`));
      }
    } finally {
      await driver.quit();
    }
  });

  test(`${browser}: on a touch screen the QR is an image that scans to the issued code`, async () => {
    const driver = await driverFor(browser, [420, 900]);
    try {
      if (browser === "chromium") await chromiumPhone(driver);
      // Firefox and WebKit have no touch emulation here: the page is told it has touch.
      const touch = browser === "chromium" ? "" :
        `Object.defineProperty(navigator, "maxTouchPoints", { configurable: true, get: () => 5 });`;
      await driver.get(`${proxy.url}/checkout/index.html`);
      const invoice = await showCheckoutKeepingPage(driver, { amount: "10387" }, touch);
      const src = await driver.executeScript(`const img = document.querySelector("paydigital-checkout")
        .shadowRoot.querySelector(".pd-qr img"); return img && img.src;`);
      assert.match(src || "", /^data:image\/png;base64,/, "the QR is an <img> drawn here");
      const file = path.join(ARTIFACTS, `phone-${browser}-image.png`);
      fs.writeFileSync(file, Buffer.from(src.split(",")[1], "base64"));
      const payment = await issued(invoice);
      assert.equal(decodeQr(file), payment.qr_content, "the long-pressable image scans to the issued code");
      if (browser === "chromium") {
        await accessible(driver, "chromium phone");
        await windowShot(driver, path.join(SCREENSHOTS, "phone.png"));
      }
    } finally {
      await driver.quit();
    }
  });
}

/** As showCheckout, but `prelude` runs on the page first (it must stay the same document). */
async function showCheckoutKeepingPage(driver, attributes, prelude) {
  await driver.executeScript(`${prelude || ""}
    document.body.innerHTML = "";
    const element = document.createElement("paydigital-checkout");
    for (const [name, value] of Object.entries(arguments[0])) element.setAttribute(name, value);
    document.body.appendChild(element);`, { endpoint: "/api/payments", ...attributes });
  return waitFor("the pending view", 20000, () => driver.executeScript(`
    const host = document.querySelector("paydigital-checkout"), root = host && host.shadowRoot;
    return root && host.dataset.state === "pending" && root.querySelector(".pd-qr img[src], .pd-qr svg")
      ? root.querySelector(".pd-invoice code").textContent.trim() : null;`));
}

test("chromium: theme=auto follows the phone's dark setting", { skip: !BROWSERS.includes("chromium") }, async () => {
  const driver = await driverFor("chromium", [420, 900]);
  try {
    await driver.sendDevToolsCommand("Emulation.setEmulatedMedia",
      { features: [{ name: "prefers-color-scheme", value: "dark" }] });
    await showCheckout(driver, { amount: "11000", theme: "auto" }, "#0b1118");
    const card = await driver.executeScript(`return getComputedStyle(document.querySelector("paydigital-checkout")
      .shadowRoot.querySelector(".pd-card")).backgroundColor`);
    assert.equal(card, "rgb(27, 36, 48)", "dark, as the phone is");
    await accessible(driver, "chromium auto (dark)");
  } finally {
    await driver.quit();
  }
});
