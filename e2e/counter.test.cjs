// The counter in real browsers, Chromium and Firefox (selenium-webdriver with the machine's
// chromedriver and geckodriver), as a cashier: signed in they land on the counter, key an
// amount with the keypad and the keyboard, press Tagih, see the widget's own pending view of
// the sale (its QR, taken from the screen, decoded by zbarimg, is the code PayDigital issued,
// and the widget's styles were let in by the page's CSP), reload and see the same sale, have
// it paid at the sandbox, see Lunas full-screen with the total and hear it announced once,
// press Penjualan baru for an empty keypad, and find the sale paid in the list below (and a
// sale made on another of their devices appear there without a reload). An
// expired code offers a new one for the same amount. axe-core checks the keypad, the sale and
// Lunas; each fits a 360-px phone. Screenshots: artifacts/counter/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { By, Key, until } = require("selenium-webdriver");
const { ROOT, accessible, addStaff, decodeQr, driverFor, merchantApi, startProxy } = require("./support.cjs");

const ARTIFACTS = path.join(ROOT, "artifacts/counter");
const MERCHANT_KEY = "counter-e2e-merchant-key-0123456789abcdef";
const CASHIER = ["kasir@toko.example", "kata-sandi-kasir-123"];

let work, proxy;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "counter-e2e-"));
  const database = path.join(work, "checkout.sqlite");
  addStaff(database, CASHIER, "cashier");
  proxy = await startProxy(database, { CHECKOUT_MERCHANT_KEY: MERCHANT_KEY });
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

/** A merchant API read (GET `route`). */
const merchant = (route) => merchantApi(proxy.url, MERCHANT_KEY, "GET", route);

async function sandbox(invoice, what) {
  const response = await fetch(`${proxy.url}/sandbox/payments/${invoice}/${what}`, { method: "POST" });
  assert.ok(response.ok, `${what} ${invoice}: ${response.status}`);
}

/** axe-core, then the page at a 360-px phone's width (Chromium emulates one; Firefox checks
 * its narrowest window), then back to the tablet it runs on. */
async function check(driver, browser, page) {
  await accessible(driver, page);
  if (browser === "chromium") {
    await driver.sendDevToolsCommand("Emulation.setDeviceMetricsOverride",
      { width: 360, height: 780, deviceScaleFactor: 1, mobile: true });
    const [scroll, width] = await driver.executeScript("return [document.documentElement.scrollWidth, window.innerWidth]");
    assert.ok(scroll <= width, `${page} is ${scroll}px wide in a ${width}px window`);
    fs.writeFileSync(path.join(ARTIFACTS, `${browser}-${page}-phone.png`), await driver.takeScreenshot(), "base64");
    await driver.sendDevToolsCommand("Emulation.clearDeviceMetricsOverride", {});
  }
  fs.writeFileSync(path.join(ARTIFACTS, `${browser}-${page}.png`), await driver.takeScreenshot(), "base64");
}

async function shown(driver, id) {
  return driver.executeScript(`return !document.getElementById(arguments[0]).hidden`, id);
}

/** The widget's pending view of a sale: its payment id, once its QR is drawn. */
async function pendingSale(driver) {
  const widget = await driver.wait(until.elementLocated(By.css("#sale-slot paydigital-checkout")), 10000);
  await driver.wait(async () => (await widget.getAttribute("data-state")) === "pending", 15000, "the widget's pending view");
  return widget;
}

/** speechSynthesis.speak recorded instead of spoken, on the open page. */
async function recordSpeech(driver) {
  await driver.executeScript(`window.__spoken = [];
    window.speechSynthesis.speak = (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); setTimeout(() => u.onend && u.onend(), 0); };`);
}

for (const browser of ["chromium", "firefox"]) {
  test(`${browser}: a cashier keys a sale, it is paid, Lunas, New sale`, async () => {
    const driver = await driverFor(browser, [800, 1000]);
    try {
      await driver.get(`${proxy.url}/admin/login`);
      await driver.findElement(By.id("email")).sendKeys(CASHIER[0]);
      await driver.findElement(By.id("password")).sendKeys(CASHIER[1]);
      await driver.findElement(By.css("form.login button")).click();
      await driver.wait(until.urlIs(`${proxy.url}/admin/counter`), 5000, "a cashier lands on the counter");
      const nav = await driver.findElement(By.css("header nav")).getText();
      assert.match(nav, /Kasir/);
      assert.match(nav, /Pembayaran/);
      assert.doesNotMatch(nav, /Ringkasan|Log audit|Tautan/);
      const display = await driver.findElement(By.id("amount-display"));
      assert.equal(await display.getText(), "Rp 0");
      const charge = await driver.findElement(By.id("charge"));
      assert.equal(await charge.getText(), "Tagih");
      assert.equal(await charge.isEnabled(), false, "nothing to charge yet");
      await check(driver, browser, "keypad");

      // The keypad: 2, 5, 000, Hapus, then the keyboard's 0.
      const key = (k) => driver.findElement(By.css(`.keypad button[data-key="${k}"]`)).click();
      for (const k of ["2", "5", "000"]) await key(k);
      assert.equal(await display.getText(), "Rp 25.000");
      await key("delete");
      assert.equal(await display.getText(), "Rp 2.500");
      await driver.actions().sendKeys("0").perform();
      assert.equal(await display.getText(), "Rp 25.000", "the keyboard's digits work too");
      await driver.findElement(By.id("note")).sendKeys("2 kopi susu");
      await driver.findElement(By.id("note")).sendKeys("1");
      assert.equal(await display.getText(), "Rp 25.000", "digits typed in the note stay in the note");
      await driver.findElement(By.id("note")).sendKeys(Key.BACK_SPACE);

      // Tagih: the widget's own pending view of a counter sale.
      await charge.click();
      let widget = await pendingSale(driver);
      const id = await widget.getAttribute("payment");
      assert.match(id, /^pay_[A-Za-z0-9_-]{22}$/);
      assert.equal(await driver.getCurrentUrl(), `${proxy.url}/admin/counter?sale=${id}`);
      const payment = await merchant(`payments/${id}`);
      assert.equal(payment.source, "counter");
      assert.equal(payment.amount, 25000);
      assert.equal(payment.description, "2 kopi susu");
      const root = await widget.getShadowRoot();
      const amount = await (await root.findElement(By.css(".pd-pending .pd-amount"))).getText();
      assert.equal(amount.replace(/\s+/g, " "), `Rp ${payment.total_amount.toLocaleString("id-ID")}`, "the exact total");
      // The widget's stylesheet was let in by the page's CSP (hash): its card has its border.
      const border = await driver.executeScript(
        "return getComputedStyle(arguments[0].shadowRoot.querySelector('.pd-card')).borderTopStyle", widget);
      assert.equal(border, "solid", "the widget is styled");
      const qrFile = path.join(ARTIFACTS, `${browser}-qr.png`);
      // The whole screen as the customer's phone sees it (an element's own screenshot is cut
      // by the rectangle it had before the tablet's zoom in Chromium).
      await driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", await root.findElement(By.css(".pd-qr")));
      fs.writeFileSync(qrFile, await driver.takeScreenshot(), "base64");
      assert.equal(decodeQr(qrFile), payment.qr_content, "the QR on screen is the code PayDigital issued");
      await check(driver, browser, "sale");

      // A reload during the sale: the same sale.
      await driver.navigate().refresh();
      widget = await pendingSale(driver);
      assert.equal(await widget.getAttribute("payment"), id);
      assert.equal(await shown(driver, "keypad-view"), false);

      // Paid at the sandbox: Lunas, full-screen, the total, announced once.
      await driver.findElement(By.id("announce")).click();
      await recordSpeech(driver);
      await sandbox(payment.invoice, "pay");
      await driver.wait(async () => shown(driver, "paid-view"), 15000, "Lunas");
      const paid = await driver.findElement(By.id("paid-view")).getText();
      assert.match(paid, /Lunas/);
      assert.match(paid, new RegExp(`Rp ${payment.total_amount.toLocaleString("id-ID").replace(".", "\\.")}`));
      const [cover, viewport] = await driver.executeScript(`const r = document.getElementById("paid-view").getBoundingClientRect();
        const page = document.documentElement;
        return [[r.width, r.height], [page.clientWidth, page.clientHeight]];`);
      assert.deepEqual(cover, viewport, "full-screen");
      await check(driver, browser, "paid");
      // The live feed's poll (every 2 s) sees the same payment paid: still said once.
      const polls = () => driver.executeScript(
        "return performance.getEntriesByType('resource').filter((e) => e.name.includes('/admin/live')).length");
      const seenPolls = await polls();
      await driver.wait(async () => (await polls()) >= seenPolls + 2, 10000, "two more polls");
      const spoken = await driver.executeScript("return window.__spoken");
      assert.equal(spoken.length, 1, JSON.stringify(spoken));
      assert.equal(spoken[0].lang, "id-ID");
      assert.match(spoken[0].text, /^Pembayaran diterima, dua puluh lima ribu .* rupiah$/);

      // Penjualan baru: an empty keypad, and the sale in the list below, paid.
      await driver.findElement(By.id("new-sale")).click();
      assert.equal(await shown(driver, "keypad-view"), true);
      assert.equal(await shown(driver, "paid-view"), false);
      assert.equal(await driver.findElement(By.id("amount-display")).getText(), "Rp 0");
      assert.equal(await driver.findElement(By.id("note")).getAttribute("value"), "");
      assert.equal(await driver.getCurrentUrl(), `${proxy.url}/admin/counter`);
      await driver.wait(until.elementLocated(By.css(`#recent #row-${id} [data-status=paid]`)), 10000, "listed, paid");
      // A sale this cashier made on another device appears in the list without a reload.
      const elsewhere = await driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
        fetch("/admin/counter/sales", { method: "POST", headers: { "content-type": "application/json",
          "idempotency-key": "other-device-" + Date.now() }, body: JSON.stringify({ amount: 12000 }) })
          .then((r) => r.json()).then((s) => done(s.payment), (e) => done("failed " + e));`);
      assert.match(elsewhere, /^pay_/);
      await driver.wait(until.elementLocated(By.css(`#recent #row-${elsewhere}`)), 10000, "the other device's sale, live");

      // An expired code offers a new one for the same amount.
      for (const k of ["1", "5", "000"]) await key(k);
      await driver.findElement(By.id("charge")).click();
      widget = await pendingSale(driver);
      const first = await widget.getAttribute("payment");
      await sandbox((await merchant(`payments/${first}`)).invoice, "expire");
      await driver.wait(async () => shown(driver, "sale-expired"), 20000, "the expired code's offer");
      assert.match(await driver.findElement(By.id("sale-expired")).getText(), /Rp 15\.000/);
      await driver.findElement(By.id("new-code")).click();
      await driver.wait(async () => {
        const next = await driver.executeScript(
          "const w = document.querySelector('#sale-slot paydigital-checkout'); return w && w.getAttribute('payment')");
        return next && next !== first;
      }, 10000, "a new code");
      widget = await pendingSale(driver);
      const again = await merchant(`payments/${await widget.getAttribute("payment")}`);
      assert.equal(again.amount, 15000);
      assert.equal(again.source, "counter");
      assert.equal(await shown(driver, "sale-expired"), false);
      await driver.findElement(By.id("cancel-sale")).click();
      assert.equal(await shown(driver, "keypad-view"), true);
    } finally {
      await driver.quit();
    }
  });
}
