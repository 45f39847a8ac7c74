// The widget on a shop as shops really are (issue 33, embed.md "Real storefronts"), in
// Chromium and Firefox through WebDriver: a page under the strictest policy the spec allows
// (no 'unsafe-inline', no nonce) where the widget is styled, its buttons work and no
// `securitypolicyviolation` fires; a policy that leaves the proxy's API out (`csp_blocked`);
// and the lifecycle a single-page app puts it through — moved elements, changed attributes,
// `handle.update()`, mount → destroy → mount at once, the same order twice, many widgets and
// a reload. Payments are counted at the sandbox (its upstream creates), after a known event.
//
// Run by `make test-e2e`: NODE_PATH=$(NPM_DIR)/node_modules node --test e2e/
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { driverFor, startProxy, waitFor } = require("./support.cjs");

let work, proxy, shop;

/** The shop's pages: each an HTML file with its own Content-Security-Policy header. */
function pages() {
  const api = `${proxy.url}/api/payments`;
  const loader = `<script src="/page.js" defer></script>
<script src="${proxy.url}/checkout/paydigital-checkout.js" defer></script>`;
  // embed.md's minimal policy for a shop, word for word.
  const strict = (shopOrigin, connect) => "default-src 'none'; " +
    `script-src ${shopOrigin} ${proxy.url} 'wasm-unsafe-eval'; style-src ${shopOrigin}; ` +
    `connect-src ${connect}; img-src ${shopOrigin} blob: data:; base-uri 'none'`;
  return {
    "/strict.html": (origin) => [strict(origin, proxy.url), `<!DOCTYPE html><html lang="id"><head>
<meta charset="utf-8"><title>Toko ketat</title>${loader}</head><body>
<paydigital-checkout id="a" endpoint="${api}" amount="12000" reference="TWO-A"></paydigital-checkout>
<paydigital-checkout id="b" endpoint="${api}" amount="12500" reference="TWO-B"></paydigital-checkout>
</body></html>`],
    // The proxy's files allowed, its API not: the widget loads, its requests are refused.
    "/blocked.html": (origin) => [strict(origin, `${proxy.url}/checkout/`), `<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>Toko terblokir</title>${loader}</head><body>
<paydigital-checkout id="a" endpoint="${api}" amount="12100"></paydigital-checkout></body></html>`],
    "/empty.html": (origin) => [strict(origin, proxy.url), `<!DOCTYPE html><html lang="id"><head>
<meta charset="utf-8"><title>SPA</title>${loader}</head><body></body></html>`],
  };
}

// What the page records for the test: every CSP violation and every widget event.
const PAGE_JS = `window.pdViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  pdViolations.push(e.effectiveDirective + " " + e.blockedURI);
});
window.pdEvents = [];
["paydigital:created", "paydigital:paid", "paydigital:expired", "paydigital:error"].forEach(function (name) {
  document.addEventListener(name, function (e) {
    pdEvents.push({ type: name, id: e.target.id, detail: e.detail });
  });
});`;

function startShop() {
  const routes = pages();
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(PAGE_JS);
      }
      const page = routes[req.url];
      if (!page) { res.writeHead(404); return res.end(); }
      const [policy, html] = page(origin);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": policy });
      res.end(html);
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

async function creates() {
  const calls = await (await fetch(`${proxy.url}/sandbox/calls`)).json();
  return calls.endpoints.create_payment || 0;
}

/** What a checkout element shows: state, invoice, whether a QR is drawn, the status line. */
function shown(driver, selector) {
  return driver.executeScript(`
    const el = document.querySelector(arguments[0]);
    const root = el && el.shadowRoot;
    const q = (s) => root && root.querySelector(s);
    return el && { state: el.getAttribute("data-state"),
      invoice: q(".pd-invoice code") ? q(".pd-invoice code").textContent.trim() : null,
      qr: !!q(".pd-qr svg"), status: q(".pd-status") ? q(".pd-status").textContent : null };`, selector);
}

async function pendingInvoice(driver, selector) {
  let last = null;
  try {
    const seen = await waitFor(`${selector} pending`, 20000, async () => {
      last = await shown(driver, selector);
      return last && last.state === "pending" && last.invoice ? last : null;
    });
    return seen.invoice;
  } catch (error) {
    const events = await driver.executeScript("return JSON.stringify(window.pdEvents || [])");
    throw new Error(`${error.message}: shows ${JSON.stringify(last)}; events ${events}`);
  }
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-storefronts-"));
  proxy = await startProxy(path.join(work, "checkout.sqlite"), {
    CHECKOUT_ALLOWED_ORIGINS: "*", CHECKOUT_CREATES_PER_MINUTE: "10000",
  });
  shop = await startShop();
});

after(async () => {
  if (shop) shop.server.close();
  if (proxy) proxy.child.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
});

for (const browser of ["chromium", "firefox"]) {
  test(`${browser}: under a strict CSP the widget is styled, works, resumes after a reload, and nothing is refused`, async () => {
    const driver = await driverFor(browser);
    try {
      await driver.get(`${shop.url}/strict.html`);
      const a = await pendingInvoice(driver, "#a");
      const b = await pendingInvoice(driver, "#b");
      assert.notEqual(a, b, "two widgets, two payments");
      const made = await creates();

      // A reload resumes each payment: the same invoices, no create.
      await driver.navigate().refresh();
      assert.equal(await pendingInvoice(driver, "#a"), a);
      assert.equal(await pendingInvoice(driver, "#b"), b);
      assert.equal(await creates(), made, "a reload makes no payment");

      // Styled by the adopted stylesheet, with no <style> element for the policy to refuse.
      const style = await driver.executeScript(`
        const root = document.querySelector("#a").shadowRoot;
        const card = root.querySelector(".pd");
        return { inline: root.querySelectorAll("style").length, adopted: root.adoptedStyleSheets.length,
                 maxWidth: getComputedStyle(card).maxWidth, display: getComputedStyle(document.querySelector("#a")).display };`);
      assert.deepEqual(style, { inline: 0, adopted: 1, maxWidth: "420px", display: "block" });

      // Buttons work: expire the code, press "Buat kode baru", a new QR comes.
      const expire = await fetch(`${proxy.url}/sandbox/payments/${a}/expire`, { method: "POST" });
      assert.ok(expire.ok);
      await waitFor("#a expired", 20000, async () => (await shown(driver, "#a")).state === "expired");
      await driver.executeScript(`
        const root = document.querySelector("#a").shadowRoot;
        [...root.querySelectorAll("button")].find((b) => b.textContent.includes("Buat kode baru")).click();`);
      const renewed = await pendingInvoice(driver, "#a");
      assert.notEqual(renewed, a);

      assert.deepEqual(await driver.executeScript("return window.pdViolations"), []);
    } finally {
      await driver.quit();
    }
  });

  test(`${browser}: a policy that refuses the proxy's API gives csp_blocked naming the directive`, async () => {
    const driver = await driverFor(browser);
    try {
      await driver.get(`${shop.url}/blocked.html`);
      const error = await waitFor("paydigital:error csp_blocked", 20000, () => driver.executeScript(
        `return pdEvents.find((e) => e.type === "paydigital:error" && e.detail.code === "csp_blocked") || null`));
      const errors = await driver.executeScript(
        `return pdEvents.filter((e) => e.type === "paydigital:error").map((e) => e.detail.code)`);
      // A refused fetch rejects like an offline one, and the event saying why may come a task
      // later: a `network` error may come first; csp_blocked replaces it and stays.
      assert.equal(errors.at(-1), "csp_blocked", errors.join());
      assert.match(error.detail.message, /connect-src/);
      assert.equal((await shown(driver, "#a")).state, "error");
    } finally {
      await driver.quit();
    }
  });

  test(`${browser}: moved, changed, updated, remounted at once, mounted twice: one payment per order`, async () => {
    const driver = await driverFor(browser);
    const api = `${proxy.url}/api/payments`;
    const ref = `SPA-${browser}-${Date.now()}`;
    try {
      await driver.get(`${shop.url}/empty.html`);
      await waitFor("the loader", 20000, () => driver.executeScript("return !!window.PayDigitalCheckout"));

      // An element, then moved as a framework reorders: no create, no loading flash.
      await driver.executeScript(`
        const el = document.createElement("paydigital-checkout");
        el.id = "m"; el.setAttribute("endpoint", arguments[0]);
        el.setAttribute("amount", "13000"); el.setAttribute("reference", arguments[1]);
        document.body.append(el, document.createElement("div"));`, api, ref);
      const first = await pendingInvoice(driver, "#m");
      const made = await creates();
      const afterMove = await driver.executeScript(`
        const el = document.querySelector("#m");
        window.pdStates = [];
        new MutationObserver(() => pdStates.push(el.getAttribute("data-state")))
          .observe(el, { attributes: true, attributeFilter: ["data-state"] });
        document.body.append(el);  // removed and inserted again in one go
        return new Promise((done) => setTimeout(() => done(pdStates.slice()), 0));`);
      assert.deepEqual(afterMove, [], "no state change while moved");
      assert.deepEqual(await shown(driver, "#m").then((s) => [s.state, s.invoice]), ["pending", first]);
      assert.equal(await creates(), made, "a moved element makes no payment");

      // A changed amount: the old QR goes at once, a new payment comes, created fires again.
      const cleared = await driver.executeScript(`
        const el = document.querySelector("#m");
        window.pdEvents.length = 0;  // in place: Firefox runs these scripts in a sandbox of its own
        el.setAttribute("amount", "14000");
        return !el.shadowRoot.querySelector(".pd-qr");`);
      assert.ok(cleared, "the old QR is gone as soon as the amount changes");
      const second = await pendingInvoice(driver, "#m");
      assert.notEqual(second, first);
      const created = await waitFor("paydigital:created", 20000, () => driver.executeScript(
        `return pdEvents.find((e) => e.type === "paydigital:created" && e.id === "m") || null`));
      assert.equal(typeof created.detail.total_amount, "number");
      assert.ok(created.detail.total_amount >= 14000 && created.detail.total_amount < 15000, JSON.stringify(created.detail));
      assert.equal(await creates(), made + 1, "one payment for the new order");

      // lang changes what is said, not what is paid.
      await driver.executeScript(`document.querySelector("#m").setAttribute("lang", "en")`);
      await waitFor("English", 20000, async () => /Scan|Waiting|waiting/.test((await shown(driver, "#m")).status || ""));
      assert.equal(await pendingInvoice(driver, "#m"), second);
      assert.equal(await creates(), made + 1, "no payment for a language change");

      // Removed for good: its work stops.
      await driver.executeScript(`window.pdGone = document.querySelector("#m"); pdGone.remove();`);
      await waitFor("#m stopped", 5000, () => driver.executeScript(
        `return !pdGone.hasAttribute("data-state") && !pdGone.shadowRoot.querySelector(".pd")`));

      // React StrictMode: mount, destroy, mount again at once; and the same order twice.
      const strict = await driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        const [api, ref] = [arguments[0], arguments[1]];
        const one = document.createElement("div"), two = document.createElement("div");
        one.id = "s1"; two.id = "s2"; document.body.append(one, two);
        const options = { endpoint: api, amount: 15000, reference: ref + "-strict" };
        PayDigitalCheckout.mount(one, options).then((h) => { h.destroy(); h.destroy(); });
        Promise.all([PayDigitalCheckout.mount(one, options), PayDigitalCheckout.mount(two, options)])
          .then(([h1, h2]) => { window.pdHandles = [h1, h2]; done("mounted"); }, (e) => done(String(e)));`,
      api, ref);
      assert.equal(strict, "mounted");
      const s1 = await pendingInvoice(driver, "#s1");
      const s2 = await pendingInvoice(driver, "#s2");
      assert.equal(s1, s2, "the same order twice in one tab is one payment");
      assert.equal(await creates(), made + 2, "mount → destroy → mount made one payment");

      // handle.update(): another amount is another payment, shown at once.
      await driver.executeScript(`pdHandles[0].update({ amount: 16000 })`);
      const updated = await pendingInvoice(driver, "#s1");
      assert.notEqual(updated, s1);
      assert.equal(await creates(), made + 3);
      const destroyed = await driver.executeScript(`
        pdHandles.forEach((h) => { h.destroy(); h.destroy(); });
        return pdHandles.map((h) => h.state);`);
      assert.deepEqual(destroyed, ["destroyed", "destroyed"]);
    } finally {
      await driver.quit();
    }
  });
}
