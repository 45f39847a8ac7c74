// What the dashboard's browser tests (admin, links, counter) share: a WebDriver for Chromium
// or Firefox with the machine's own drivers, axe-core on the open page, a sandbox proxy on a
// free port, staff added from the command line, and the one polling wait. Not a test file
// itself (node --test runs only *.test.cjs).
"use strict";

const assert = require("node:assert/strict");
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
// Selenium Manager must never go looking for drivers on the network: the drivers are given.
process.env.SE_OFFLINE = "true";
const { Builder } = require("selenium-webdriver");
const chrome = require("selenium-webdriver/chrome");
const firefox = require("selenium-webdriver/firefox");
const getScriptManager = require("selenium-webdriver/bidi/scriptManager");

const ROOT = path.resolve(__dirname, "..");
const PROXY_BIN = path.join(ROOT, "target/debug/paydigital-proxy");
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const GECKODRIVER = path.join(process.env.TOOLS_DIR || path.join(os.homedir(), ".cache/paydigital-checkout"), "bin/geckodriver");

/** Runs in every page before the page's own scripts (a WebDriver BiDi preload script): keeps
 * each Content-Security-Policy violation the page reports, shadow roots included. */
const WATCH_POLICY = `() => {
  window.__policyViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__policyViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
      " at " + e.sourceFile + ":" + e.lineNumber);
  }, true);
}`;

/** A headless browser (`chromium` or `firefox`) in Indonesian, its window `width`×`height`,
 * listening for CSP violations on every page it opens (`policyViolations`). */
async function driverFor(browser, size = [360, 800]) {
  const driver = await buildDriver(browser, size);
  const scripts = await getScriptManager([], driver);
  await scripts.addPreloadScript(WATCH_POLICY);
  return driver;
}

/** What the open page's policy blocked so far; fails if the page was opened unwatched. */
async function policyViolations(driver) {
  const seen = await driver.executeScript("return window.__policyViolations || null");
  assert.ok(Array.isArray(seen), "the page was opened without the CSP violation listener");
  return seen;
}

function buildDriver(browser, [width, height]) {
  if (browser === "chromium") {
    const options = new chrome.Options()
      .setChromeBinaryPath(process.env.CHROMIUM_BIN || "/usr/bin/chromium")
      .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        `--window-size=${width},${height}`, "--lang=id-ID", "--accept-lang=id-ID,id")
      .setUserPreferences({ "intl.accept_languages": "id-ID,id" });
    options.set("webSocketUrl", true);
    return new Builder().forBrowser("chrome").setChromeOptions(options)
      .setChromeService(new chrome.ServiceBuilder(process.env.CHROMEDRIVER_BIN || "/usr/bin/chromedriver")).build();
  }
  const options = new firefox.Options()
    .setBinary(process.env.FIREFOX_BIN || "/usr/bin/firefox-esr")
    .addArguments("-headless", `--width=${width}`, `--height=${height}`)
    .setPreference("intl.accept_languages", "id-ID, id")
    .setPreference("network.captive-portal-service.enabled", false)
    .setPreference("app.update.enabled", false)
    .enableBidi();
  return new Builder().forBrowser("firefox").setFirefoxOptions(options)
    .setFirefoxService(new firefox.ServiceBuilder(GECKODRIVER)).build();
}

/** axe-core on the open page: no serious or critical violation; and nothing the page's CSP
 * blocked. */
async function accessible(driver, page) {
  assert.deepEqual(await policyViolations(driver), [], `${page}: CSP violations`);
  await driver.executeScript(AXE);
  const violations = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    axe.run(document, { resultTypes: ["violations"] })
      .then((r) => done(r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "))))
      .catch((e) => done(["axe failed: " + e]));`);
  assert.deepEqual(violations, [], `${page}: ${violations.join("; ")}`);
}

/** `paydigital-proxy staff add EMAIL --role ROLE` on `database`. */
function addStaff(database, [email, password], role) {
  const out = spawnSync(PROXY_BIN, ["staff", "add", email, "--role", role, "--password-stdin"], {
    input: password + "\n", env: { ...process.env, CHECKOUT_DATABASE: database },
  });
  assert.equal(out.status, 0, out.stderr.toString());
}

/** `paydigital-proxy serve --sandbox` on a free port, over `database`, the widget from dist/,
 * with `env` added; resolves `{ child, url }` once it says where it listens. */
function startProxy(database, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(PROXY_BIN, ["serve", "--sandbox", "--listen", "127.0.0.1:0"], {
      env: { ...process.env, RUST_LOG: "warn", CHECKOUT_DATABASE: database,
             CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"),
             CHECKOUT_UPSTREAM_MAX_RPS: "1000", CHECKOUT_STATUS_REFRESH_MS: "500", ...env },
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
}

/** `ready()`'s first truthy value, asked every 100 ms; fails naming `what` after `limitMs`. */
async function waitFor(what, limitMs, ready) {
  const start = Date.now();
  for (;;) {
    const value = await ready();
    if (value) return value;
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { ROOT, PROXY_BIN, driverFor, accessible, policyViolations, addStaff, startProxy, waitFor };
