// The soundbox (Umumkan pembayaran / Announce payments) says only what turns paid while it
// is on and a page is open, once per device — never a payment paid before (issue 35: with a
// second tab opened, a device spoke three payments paid before announcing was on; at a till
// that is a false "paid"). In Chromium and Firefox (selenium-webdriver): an owner has the
// payments list open with announcing off; three payments are paid and shown paid there; then
// announcing is turned on, a second tab opened, two other payments paid, and one last one.
// speechSynthesis.speak is recorded on both pages: the two and the last are spoken once each
// across the tabs, the three never. A counter sale paid before its page was opened (a reload
// showing Lunas) is not spoken either. admin.js's pure rules are asked directly too.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { By, until } = require("selenium-webdriver");
const { addStaff, driverFor, startProxy, waitFor } = require("./support.cjs");

const MERCHANT_KEY = "soundbox-e2e-merchant-key-0123456789abcdef";
const OWNER = ["pemilik@toko.example", "kata-sandi-pemilik-toko"];

let work, proxy;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "soundbox-e2e-"));
  const database = path.join(work, "checkout.sqlite");
  addStaff(database, OWNER, "owner");
  proxy = await startProxy(database, { CHECKOUT_MERCHANT_KEY: MERCHANT_KEY });
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

/** A payment made through the merchant API for `amount` rupiah. */
async function create(amount, reference) {
  const response = await fetch(`${proxy.url}/api/merchant/payments`, {
    method: "POST",
    headers: { authorization: `Bearer ${MERCHANT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ amount, reference, customer_name: "Sari Dewi" }),
  });
  assert.ok(response.ok, `create ${amount}: ${response.status}`);
  return response.json();
}

async function pay(payment) {
  const response = await fetch(`${proxy.url}/sandbox/payments/${payment.invoice}/pay`, { method: "POST" });
  assert.ok(response.ok, `pay ${payment.invoice}: ${response.status}`);
}

/** speechSynthesis.speak recorded instead of spoken, on the open page (before its first
 * poll, 2 s after it loaded). */
async function recordSpeech(driver) {
  await driver.executeScript(`window.__spoken = [];
    window.speechSynthesis.speak = (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 0); };`);
}

/** Everything spoken so far on the pages open in `tabs`. */
async function spokenIn(driver, tabs) {
  const spoken = [];
  for (const tab of tabs) {
    await driver.switchTo().window(tab);
    spoken.push(...await driver.executeScript("return window.__spoken || []"));
  }
  return spoken;
}

/** Amounts whose thousands name them aloud: the sandbox adds a unique code of 1–999, so the
 * words say "…, empat puluh satu ribu …" whatever the code. */
const SAID = {
  41000: "empat puluh satu ribu", 42000: "empat puluh dua ribu", 43000: "empat puluh tiga ribu",
  21000: "dua puluh satu ribu", 22000: "dua puluh dua ribu", 61000: "enam puluh satu ribu",
  71000: "tujuh puluh satu ribu", 81000: "delapan puluh satu ribu",
};
const timesSaid = (spoken, amount) =>
  spoken.filter((text) => text.startsWith(`Pembayaran diterima, ${SAID[amount]} `)).length;

async function rowPaid(driver, payment) {
  await driver.wait(until.elementLocated(By.css(`#row-${payment.id} [data-status=paid]`)), 15000,
    `${payment.id} shown paid`);
}

for (const browser of ["chromium", "firefox"]) {
  test(`${browser}: the soundbox says what turns paid while it is on, once, never what was paid before`, async () => {
    const driver = await driverFor(browser);
    try {
      await driver.get(`${proxy.url}/admin/login`);
      await driver.findElement(By.id("email")).sendKeys(OWNER[0]);
      await driver.findElement(By.id("password")).sendKeys(OWNER[1]);
      await driver.findElement(By.css("form.login button")).click();
      await driver.wait(until.urlIs(`${proxy.url}/admin/`), 5000);

      // admin.js's rules, asked directly: on, and paid after both the turning on and the page.
      const rules = await driver.executeScript(`const a = window.PayDigitalAdmin; return [
        a.parseSetting("on@1000"), a.parseSetting("on"), a.parseSetting("off"), a.parseSetting(null),
        a.isNews(5000, { on: true, since: 1000 }, 2000), a.isNews(1500, { on: true, since: 1000 }, 2000),
        a.isNews(1500, { on: true, since: 2000 }, 1000), a.isNews(2000, { on: true, since: 2000 }, 1000),
        a.isNews(5000, { on: false, since: 0 }, 0), a.isNews(undefined, { on: true, since: 0 }, 0)];`);
      assert.deepEqual(rules, [{ on: true, since: 1000 }, { on: true, since: 0 }, { on: false, since: 0 },
        { on: false, since: 0 }, true, false, false, false, false, false]);

      const run = `${browser}-${Date.now()}`;
      const early = [await create(41000, `${run}-a`), await create(42000, `${run}-b`), await create(43000, `${run}-c`)];
      const later = [await create(21000, `${run}-d`), await create(22000, `${run}-e`)];
      const last = await create(61000, `${run}-f`);
      // A sale at the counter, paid before announcing is on (its page reopened further down).
      const sale = await driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
        fetch("/admin/counter/sales", { method: "POST", credentials: "same-origin",
          headers: { "content-type": "application/json", "idempotency-key": "soundbox-${run}" },
          body: JSON.stringify({ amount: 71000 }) }).then((r) => r.json()).then(done, (e) => done({ error: String(e) }));`);
      assert.match(sale.payment || "", /^pay_/, JSON.stringify(sale));

      // Announcing off: the list open, the early payments paid and shown paid there.
      await driver.get(`${proxy.url}/admin/payments`);
      assert.equal(await driver.findElement(By.id("announce")).isSelected(), false, "off on a new device");
      await recordSpeech(driver);
      const first = await driver.getWindowHandle();
      // The sale's invoice (to pay it at the sandbox), as the merchant API reads it.
      const read = await fetch(`${proxy.url}/api/merchant/payments/${sale.payment}`,
        { headers: { authorization: `Bearer ${MERCHANT_KEY}` } });
      assert.ok(read.ok, `read the sale: ${read.status}`);
      const counterSale = await read.json();
      for (const payment of [...early, counterSale]) await pay(payment);
      for (const payment of [...early, counterSale]) await rowPaid(driver, payment);

      // Announcing on, then a second tab on the same list: the setting is the device's.
      await driver.findElement(By.id("announce")).click();
      assert.match(await driver.executeScript("return localStorage.getItem('pd-announce')"), /^on@\d+$/);
      await driver.switchTo().newWindow("tab");
      await driver.get(`${proxy.url}/admin/payments`);
      assert.equal(await driver.findElement(By.id("announce")).isSelected(), true, "remembered on this device");
      await recordSpeech(driver);
      const second = await driver.getWindowHandle();
      const tabs = [first, second];

      // Paid now: each spoken once across the two tabs.
      for (const payment of later) await pay(payment);
      await waitFor("the later payments spoken", 20000, async () => {
        const spoken = await spokenIn(driver, tabs);
        return later.every((p) => timesSaid(spoken, p.amount) >= 1);
      });
      // One more, last: each tab reads the feed in order, so once both show it paid, both have
      // passed every earlier payment (and the one that spoke it said it in the same step).
      await pay(last);
      await waitFor("the last payment spoken", 20000, async () => timesSaid(await spokenIn(driver, tabs), 61000) === 1);
      for (const tab of tabs) {
        await driver.switchTo().window(tab);
        await rowPaid(driver, last);
      }
      const spoken = await spokenIn(driver, tabs);
      for (const amount of [21000, 22000, 61000]) assert.equal(timesSaid(spoken, amount), 1, `${amount} once: ${JSON.stringify(spoken)}`);
      for (const amount of [41000, 42000, 43000, 71000]) assert.equal(timesSaid(spoken, amount), 0, `${amount} was paid before: ${JSON.stringify(spoken)}`);
      assert.equal(spoken.length, later.length + 1, JSON.stringify(spoken));

      // What the device marked said (its once-per-device list): the same ones.
      const said = new Set(await driver.executeScript("return JSON.parse(localStorage.getItem('pd-announced') || '[]')"));
      assert.deepEqual([...later, last].map((p) => said.has(p.id)), [true, true, true]);
      assert.deepEqual([...early, counterSale].map((p) => said.has(p.id)), [false, false, false, false]);

      // The counter sale reopened (a reload after it was paid, announcing on): Lunas, and not
      // said. It would be said at load, before this page's recorder is in place, so the
      // device's list of what was said is the witness: an announcement marks it there first,
      // under the device's one lock, which is granted in the order asked; the sale asked at
      // load, before the payment paid next, so once that one is spoken the sale had its turn.
      await driver.get(`${proxy.url}/admin/counter?sale=${sale.payment}`);
      await recordSpeech(driver);
      await driver.wait(async () => driver.executeScript("return !document.getElementById('paid-view').hidden"), 5000, "Lunas");
      const next = await create(81000, `${run}-g`);
      await pay(next);
      await waitFor("the next payment spoken", 20000, async () => timesSaid(await spokenIn(driver, tabs), 81000) === 1);
      const afterwards = await driver.executeScript("return JSON.parse(localStorage.getItem('pd-announced') || '[]')");
      assert.ok(afterwards.includes(next.id), "the next payment marked said");
      assert.ok(!afterwards.includes(sale.payment), "the sale paid before its page opened is not said");
      assert.equal(timesSaid(await spokenIn(driver, tabs), 71000), 0);
    } finally {
      await driver.quit();
    }
  });
}
