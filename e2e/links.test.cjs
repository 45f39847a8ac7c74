// Payment links in real browsers, Chromium and Firefox (selenium-webdriver with the
// machine's chromedriver and geckodriver): the owner makes a link on the dashboard, opens its
// page as a customer would, presses Bayar, lands on the hosted page of a new payment, pays it
// at the sandbox, and the dashboard's links page shows it paid once with its total. axe-core
// checks the links page and the customer's page for serious or critical violations; both fit
// a 360-px phone. Screenshots: artifacts/links/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { By, until } = require("selenium-webdriver");
const { ROOT, accessible, addStaff, driverFor, merchantApi, startProxy, waitFor } = require("./support.cjs");

const ARTIFACTS = path.join(ROOT, "artifacts/links");
const MERCHANT_KEY = "links-e2e-merchant-key-0123456789abcdef";
const OWNER = ["pemilik@toko.example", "kata-sandi-pemilik-toko"];

let work, proxy;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "links-e2e-"));
  const database = path.join(work, "checkout.sqlite");
  addStaff(database, OWNER, "owner");
  proxy = await startProxy(database, { CHECKOUT_MERCHANT_KEY: MERCHANT_KEY });
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

/** A merchant API read (GET `route`). */
const merchant = (route) => merchantApi(proxy.url, MERCHANT_KEY, "GET", route);

async function check(driver, browser, page) {
  if (browser === "chromium") {
    await driver.sendDevToolsCommand("Emulation.setDeviceMetricsOverride",
      { width: 360, height: 780, deviceScaleFactor: 1, mobile: true });
  }
  await accessible(driver, page);
  const [scroll, width] = await driver.executeScript("return [document.documentElement.scrollWidth, window.innerWidth]");
  assert.ok(scroll <= width, `${page} is ${scroll}px wide in a ${width}px window`);
  fs.writeFileSync(path.join(ARTIFACTS, `${browser}-${page}.png`), await driver.takeScreenshot(), "base64");
}

for (const browser of ["chromium", "firefox"]) {
  test(`${browser}: a link made on the dashboard is paid by a customer and counted`, async () => {
    const driver = await driverFor(browser);
    try {
      await driver.get(`${proxy.url}/admin/login`);
      await driver.findElement(By.id("email")).sendKeys(OWNER[0]);
      await driver.findElement(By.id("password")).sendKeys(OWNER[1]);
      await driver.findElement(By.css("form.login button")).click();
      await driver.wait(until.urlIs(`${proxy.url}/admin/`), 5000);

      // The owner makes a link.
      await driver.findElement(By.css('header nav a[href="/admin/links"]')).click();
      await driver.wait(until.urlIs(`${proxy.url}/admin/links`), 5000);
      const title = `Kopi susu ${browser}`;
      const details = await driver.findElement(By.css("details.create"));
      if (!(await details.getAttribute("open"))) await driver.findElement(By.css("details.create summary")).click();
      await driver.findElement(By.id("title")).sendKeys(title);
      await driver.findElement(By.id("amount")).sendKeys("25000");
      await driver.findElement(By.id("max_payments")).sendKeys("5");
      await driver.findElement(By.css("form.link-form button")).click();
      await driver.wait(until.urlContains("done=created"), 5000);
      const row = await driver.wait(until.elementLocated(By.xpath(`//tr[.//a[text()="${title}"]]`)), 5000);
      const id = await row.getAttribute("data-link");
      assert.match(id, /^plink_[A-Za-z0-9_-]{22}$/);
      const url = await row.findElement(By.css("input.copy-source")).getAttribute("value");
      assert.equal(url, `${proxy.url}/l/${id}`);
      const share = await row.findElement(By.css("a.whatsapp")).getAttribute("href");
      assert.equal(share, `https://wa.me/?text=${encodeURIComponent(`${title} ${url}`)}`);
      assert.equal(await row.findElement(By.css(".paid-count")).getText(), "0");
      await check(driver, browser, "links");

      // The customer opens it (as from a chat) and presses Bayar.
      await driver.get(url);
      assert.equal(await driver.findElement(By.css("h1")).getText(), title);
      assert.equal(await driver.findElement(By.css(".amount")).getText(), "Rp 25.000");
      await check(driver, browser, "link-page");
      await driver.findElement(By.css("form button[type=submit]")).click();
      await driver.wait(until.urlMatches(/\/pay\/pay_[A-Za-z0-9_-]{22}$/), 10000).catch(async (e) => {
        throw new Error(`not on a hosted page (${await driver.getCurrentUrl()}): ${await driver.findElement(By.css("body")).getText()}: ${e}`);
      });
      const paymentId = (await driver.getCurrentUrl()).split("/pay/")[1];
      const payment = await merchant(`payments/${paymentId}`);
      assert.equal(payment.source, "link");
      assert.equal(payment.payment_link_id, id);
      assert.equal(payment.amount, 25000);

      // Paid at the sandbox; the merchant's read records it.
      const paid = await fetch(`${proxy.url}/sandbox/payments/${payment.invoice}/pay`, { method: "POST" });
      assert.ok(paid.ok);
      await waitFor("the payment recorded paid", 15000, async () => (await merchant(`payments/${paymentId}`)).status === "paid");

      // The dashboard counts it.
      await driver.get(`${proxy.url}/admin/links`);
      const counted = await driver.findElement(By.css(`tr[data-link="${id}"]`));
      assert.equal(await counted.findElement(By.css(".paid-count")).getText(), "1");
      assert.equal(await counted.findElement(By.css(".paid-total")).getText(),
        `Rp ${payment.total_amount.toLocaleString("id-ID")}`);

      // Deactivated: the customer's page says so (410) and the audit log has it.
      await counted.findElement(By.css("form button")).click();
      await driver.wait(until.urlContains("done=changed"), 5000);
      const gone = await fetch(url);
      assert.equal(gone.status, 410);
      await driver.get(`${proxy.url}/admin/audit`);
      assert.match(await driver.findElement(By.css("table.audit")).getText(), /link_change/);
    } finally {
      await driver.quit();
    }
  });
}
