// Payment links in real browsers, Chromium and Firefox (selenium-webdriver with the
// machine's chromedriver and geckodriver): the owner makes a link on the dashboard, opens its
// page as a customer would, presses Bayar, lands on the hosted page of a new payment, pays it
// at the sandbox, and the dashboard's links page shows it paid once with its total. axe-core
// checks the links page and the customer's page for serious or critical violations; both fit
// a 360-px phone. Screenshots: artifacts/links/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
process.env.SE_OFFLINE = "true";
const { Builder, By, until } = require("selenium-webdriver");
const chrome = require("selenium-webdriver/chrome");
const firefox = require("selenium-webdriver/firefox");

const ROOT = path.resolve(__dirname, "..");
const PROXY_BIN = path.join(ROOT, "target/debug/paydigital-proxy");
const ARTIFACTS = path.join(ROOT, "artifacts/links");
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const MERCHANT_KEY = "links-e2e-merchant-key-0123456789abcdef";
const OWNER = ["pemilik@toko.example", "kata-sandi-pemilik-toko"];
const GECKODRIVER = path.join(process.env.TOOLS_DIR || path.join(os.homedir(), ".cache/paydigital-checkout"), "bin/geckodriver");

let work, proxy;

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  work = fs.mkdtempSync(path.join(os.tmpdir(), "links-e2e-"));
  const database = path.join(work, "checkout.sqlite");
  const added = spawnSync(PROXY_BIN, ["staff", "add", OWNER[0], "--role", "owner", "--password-stdin"], {
    input: OWNER[1] + "\n", env: { ...process.env, CHECKOUT_DATABASE: database },
  });
  assert.equal(added.status, 0, added.stderr.toString());
  proxy = await new Promise((resolve, reject) => {
    const child = spawn(PROXY_BIN, ["serve", "--sandbox", "--listen", "127.0.0.1:0"], {
      env: { ...process.env, RUST_LOG: "warn", CHECKOUT_DATABASE: database,
             CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"), CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
             CHECKOUT_UPSTREAM_MAX_RPS: "1000", CHECKOUT_STATUS_REFRESH_MS: "500" },
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`the proxy did not start: ${out}`)), 15000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = out.match(/PayDigital checkout: (http:\/\/[0-9.:]+)\//);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1] }); }
    });
    child.stderr.on("data", (chunk) => { out += chunk; });
    child.on("exit", (code) => reject(new Error(`the proxy exited ${code}: ${out}`)));
  });
});

after(() => {
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

function driverFor(browser) {
  if (browser === "chromium") {
    const options = new chrome.Options()
      .setChromeBinaryPath(process.env.CHROMIUM_BIN || "/usr/bin/chromium")
      .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--window-size=360,800", "--lang=id-ID", "--accept-lang=id-ID,id")
      .setUserPreferences({ "intl.accept_languages": "id-ID,id" });
    return new Builder().forBrowser("chrome").setChromeOptions(options)
      .setChromeService(new chrome.ServiceBuilder(process.env.CHROMEDRIVER_BIN || "/usr/bin/chromedriver")).build();
  }
  const options = new firefox.Options()
    .setBinary(process.env.FIREFOX_BIN || "/usr/bin/firefox-esr")
    .addArguments("-headless", "--width=360", "--height=800")
    .setPreference("intl.accept_languages", "id-ID, id")
    .setPreference("network.captive-portal-service.enabled", false)
    .setPreference("app.update.enabled", false);
  return new Builder().forBrowser("firefox").setFirefoxOptions(options)
    .setFirefoxService(new firefox.ServiceBuilder(GECKODRIVER)).build();
}

async function merchant(route) {
  const response = await fetch(`${proxy.url}/api/merchant/${route}`, {
    headers: { authorization: `Bearer ${MERCHANT_KEY}` },
  });
  assert.ok(response.ok, `GET ${route}: ${response.status}`);
  return response.json();
}

async function waitFor(what, limitMs, ready) {
  const start = Date.now();
  for (;;) {
    const value = await ready();
    if (value) return value;
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function accessible(driver, page) {
  await driver.executeScript(AXE);
  const violations = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    axe.run(document, { resultTypes: ["violations"] })
      .then((r) => done(r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "))))
      .catch((e) => done(["axe failed: " + e]));`);
  assert.deepEqual(violations, [], `${page}: ${violations.join("; ")}`);
}

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
