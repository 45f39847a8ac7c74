// The shop's people in real browsers, Chromium and Firefox (selenium-webdriver with the
// machine's chromedriver and geckodriver): an owner signs in, sees a payment made through the
// merchant API appear and turn paid at the sandbox without a reload, hears it announced once
// across two tabs (speechSynthesis.speak recorded on the page), searches, opens the detail,
// resends (a real receiver gets the same webhook-id again), exports, signs out (the old
// cookie refused); a page on another origin cannot sign them out; the sixth wrong password is
// refused; a cashier is kept to their pages. axe-core checks every page for serious or
// critical violations, and every page fits a 360-px-wide phone. Screenshots: artifacts/admin/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { By, until } = require("selenium-webdriver");
const { ROOT, accessible, addStaff, driverFor, merchantApi, startProxy, waitFor } = require("./support.cjs");

const ARTIFACTS = path.join(ROOT, "artifacts/admin");
const MERCHANT_KEY = "admin-e2e-merchant-key-0123456789abcdef";
const WEBHOOK_SECRET = "whsec_6lVivdF9r+kMuycmtZoFMVcgrruxW/mwu6KNlJJPFBY=";
const OWNER = ["pemilik@toko.example", "kata-sandi-pemilik-toko"];
const CASHIER = ["kasir@toko.example", "kata-sandi-kasir-123"];

let work, proxy, receiver, received = [], evil;

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "admin-e2e-"));
  // A real webhook receiver: records each delivery's webhook-id and type.
  receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      received.push({ id: req.headers["webhook-id"], type: JSON.parse(body).type, payment: JSON.parse(body).data.id });
      res.writeHead(204).end();
    });
  });
  const receiverUrl = await listen(receiver);
  // Another origin's page that posts to the dashboard.
  evil = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><form id="f" method="post" action="${proxy.url}/admin/logout"></form>
      <script>document.getElementById("f").submit()</script>`);
  });
  evil.url = await listen(evil);
  const database = path.join(work, "checkout.sqlite");
  addStaff(database, OWNER, "owner");
  addStaff(database, CASHIER, "cashier");
  proxy = await startProxy(database, { CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
    CHECKOUT_WEBHOOK_URL: receiverUrl, CHECKOUT_WEBHOOK_SECRET: WEBHOOK_SECRET });
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  if (receiver) receiver.close();
  if (evil) evil.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const merchant = (method, route, body) => merchantApi(proxy.url, MERCHANT_KEY, method, route, body);

/** The page fits the 360-px phone: nothing scrolls sideways. */
async function fitsAPhone(driver, page) {
  const [scroll, width] = await driver.executeScript("return [document.documentElement.scrollWidth, window.innerWidth]");
  assert.ok(scroll <= width, `${page} is ${scroll}px wide in a ${width}px window`);
  assert.ok(width <= 500, `${page} was seen ${width}px wide`);
}

/** A 360-px phone screen. Headless windows are at least 500 px wide: Chromium emulates the
 * phone's metrics (DevTools); Firefox has no such command, so it checks at its 500 px. */
async function asAPhone(driver, browser) {
  if (browser === "chromium") {
    await driver.sendDevToolsCommand("Emulation.setDeviceMetricsOverride",
      { width: 360, height: 780, deviceScaleFactor: 1, mobile: true });
  }
}

async function check(driver, browser, page) {
  await asAPhone(driver, browser);
  await accessible(driver, page);
  await fitsAPhone(driver, page);
  fs.writeFileSync(path.join(ARTIFACTS, `${browser}-${page}.png`), await driver.takeScreenshot(), "base64");
}

async function signIn(driver, [email, password]) {
  await driver.get(`${proxy.url}/admin/login`);
  await driver.findElement(By.id("email")).sendKeys(email);
  await driver.findElement(By.id("password")).sendKeys(password);
  await driver.findElement(By.css("form.login button")).click();
}

/** speechSynthesis.speak recorded instead of spoken, on the open page. */
async function recordSpeech(driver) {
  await driver.executeScript(`window.__spoken = [];
    window.speechSynthesis.speak = (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); setTimeout(() => u.onend && u.onend(), 0); };`);
}

for (const browser of ["chromium", "firefox"]) {
  test(`${browser}: the owner's dashboard, live, announced, searched, resent, exported, signed out`, async () => {
    const driver = await driverFor(browser);
    try {
      await driver.get(`${proxy.url}/admin/`);
      assert.match(await driver.getCurrentUrl(), /\/admin\/login$/, "no session: the login page");
      assert.equal(await driver.findElement(By.css("label[for=password]")).getText(), "Kata sandi");
      await check(driver, browser, "login");
      await signIn(driver, OWNER);
      await driver.wait(until.urlIs(`${proxy.url}/admin/`), 5000);
      await check(driver, browser, "overview");

      // Two tabs on the payments list, announcing on: the payment is spoken once.
      await driver.get(`${proxy.url}/admin/payments`);
      await driver.findElement(By.id("announce")).click();
      await recordSpeech(driver);
      const first = await driver.getWindowHandle();
      await driver.switchTo().newWindow("tab");
      await driver.get(`${proxy.url}/admin/payments`);
      assert.equal(await driver.findElement(By.id("announce")).isSelected(), true, "remembered on this device");
      await recordSpeech(driver);
      const second = await driver.getWindowHandle();

      const reference = `E2E-${browser}-${Date.now()}`;
      const payment = await merchant("POST", "payments", { amount: 25000, reference, customer_name: "Sari Dewi" });
      for (const tab of [first, second]) {
        await driver.switchTo().window(tab);
        await driver.wait(until.elementLocated(By.id(`row-${payment.id}`)), 15000, "the new payment appears without a reload");
      }
      const paid = await fetch(`${proxy.url}/sandbox/payments/${payment.invoice}/pay`, { method: "POST" });
      assert.ok(paid.ok);
      for (const tab of [first, second]) {
        await driver.switchTo().window(tab);
        await driver.wait(until.elementLocated(By.css(`#row-${payment.id} [data-status=paid]`)), 15000, "it turns paid");
      }
      const spoken = [];
      for (const tab of [first, second]) {
        await driver.switchTo().window(tab);
        spoken.push(...await driver.executeScript("return window.__spoken"));
      }
      assert.equal(spoken.length, 1, `announced once across tabs: ${JSON.stringify(spoken)}`);
      assert.equal(spoken[0].lang, "id-ID");
      assert.match(spoken[0].text, /^Pembayaran diterima, dua puluh lima ribu .* rupiah$/);
      await driver.close();
      await driver.switchTo().window(first);
      await check(driver, browser, "payments");

      // Search.
      await driver.findElement(By.id("q")).sendKeys(reference);
      await driver.findElement(By.css("form.filters button")).click();
      await driver.wait(until.urlContains("q="), 5000);
      const rows = await driver.findElements(By.css("tbody#rows tr"));
      assert.equal(rows.length, 1, "the search finds that payment only");

      // The detail and its timeline; Resend.
      // Followed as a phone does, by its address (a live update may redraw the row meanwhile).
      const detail = await driver.findElement(By.css(`#row-${payment.id} a`)).getAttribute("href");
      assert.equal(detail, `${proxy.url}/admin/payments/${payment.id}`);
      await driver.get(detail);
      await waitFor("the paid delivery", 10000, () => received.find((r) => r.payment === payment.id && r.type === "payment.paid"));
      const paidEvent = received.find((r) => r.payment === payment.id && r.type === "payment.paid").id;
      await driver.navigate().refresh();
      await check(driver, browser, "detail");
      await driver.findElement(By.css(`li[data-event="${paidEvent}"] form button`)).click();
      await driver.wait(until.elementLocated(By.css("p.notice")), 5000);
      await waitFor("the resend", 10000, () => received.filter((r) => r.id === paidEvent).length === 2);

      // An open detail page turns paid by itself, once: drawn again for the new event, and
      // not again for the events it shows (two more polls later it is the same page).
      const pending = await merchant("POST", "payments", { amount: 12000, reference: `${reference}-D` });
      await driver.get(`${proxy.url}/admin/payments/${pending.id}`);
      await driver.findElement(By.css("dd [data-status=pending]"));
      const payNow = await fetch(`${proxy.url}/sandbox/payments/${pending.invoice}/pay`, { method: "POST" });
      assert.ok(payNow.ok);
      await driver.wait(until.elementLocated(By.css("dd [data-status=paid]")), 10000, "the detail turns paid without a reload by hand");
      await driver.executeScript("window.__samePage = true");
      const polls = () => driver.executeScript(
        "return performance.getEntriesByType('resource').filter((e) => e.name.includes('/admin/live')).length");
      const seenPolls = await polls();
      await driver.wait(async () => (await polls()) >= seenPolls + 2, 10000, "two more polls");
      assert.equal(await driver.executeScript("return window.__samePage === true"), true, "not drawn again for what it shows");

      // Export (a POST, as the list's form sends it), with the session the page has.
      const csv = await driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
        fetch("/admin/payments.csv", { method: "POST", body: new URLSearchParams() })
          .then((r) => r.text()).then(done, (e) => done("failed " + e));`);
      assert.ok(csv.startsWith("created_at,id,"), csv.slice(0, 80));
      assert.ok(csv.includes(payment.id));

      await driver.get(`${proxy.url}/admin/audit`);
      await check(driver, browser, "audit");
      assert.match(await driver.findElement(By.css("table.audit")).getText(), /resend/);

      // A page on another origin posting to the dashboard: refused, still signed in.
      await driver.get(evil.url);
      await driver.wait(until.urlMatches(/\/admin\/logout$/), 5000, "the other origin's form was posted");
      assert.match(await driver.findElement(By.css("body")).getText(), /tidak datang dari dasbor|did not come from the dashboard/);
      await driver.get(`${proxy.url}/admin/payments`);
      assert.match(await driver.getCurrentUrl(), /\/admin\/payments$/, "still signed in");

      // Sign out: the old cookie is refused by the server.
      const cookie = await driver.manage().getCookie("pd_session");
      assert.ok(cookie && cookie.httpOnly, "an HttpOnly session cookie");
      await driver.findElement(By.css("form.signout button")).click();
      await driver.wait(until.urlContains("/admin/login"), 5000);
      const replay = await fetch(`${proxy.url}/admin/`, { headers: { cookie: `pd_session=${cookie.value}` }, redirect: "manual" });
      assert.equal(replay.status, 303);
      assert.equal(replay.headers.get("location"), "/admin/login");
    } finally {
      await driver.quit();
    }
  });

  test(`${browser}: a cashier is kept to their pages; the sixth wrong password is refused`, async () => {
    const driver = await driverFor(browser);
    try {
      for (let n = 1; n <= 6; n++) {
        await signIn(driver, [`tamu-${browser}@toko.example`, "bukan-kata-sandinya"]);
        const error = await driver.wait(until.elementLocated(By.css("p.error")), 5000).getText();
        assert.match(error, n < 6 ? /salah/ : /Terlalu banyak/, `attempt ${n}`);
      }
      await signIn(driver, CASHIER);
      await driver.wait(until.urlIs(`${proxy.url}/admin/counter`), 5000, "a cashier lands on the counter");
      const nav = await driver.findElement(By.css("header nav")).getText();
      assert.doesNotMatch(nav, /Ringkasan|Log audit/);
      assert.match(nav, /Pembayaran/);
      assert.match(nav, /Kasir/);
      await check(driver, browser, "cashier");
      await driver.get(`${proxy.url}/admin/payments`);
      await check(driver, browser, "cashier-payments");
      await driver.get(`${proxy.url}/admin/audit`);
      assert.match(await driver.findElement(By.css("main")).getText(), /hanya untuk pemilik/);
    } finally {
      await driver.quit();
    }
  });
}
