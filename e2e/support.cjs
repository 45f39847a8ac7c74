// What the browser tests (admin, links, counter, checkout) share: a WebDriver for Chromium,
// Firefox or WebKit with the machine's own drivers, axe-core on the open page, a sandbox proxy on a
// free port, staff added from the command line, and the one polling wait. Not a test file
// itself (node --test runs only *.test.cjs).
"use strict";

const assert = require("node:assert/strict");
const { execFileSync, spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
// Selenium Manager must never go looking for drivers on the network: the drivers are given.
process.env.SE_OFFLINE = "true";
const { Builder, WebDriver } = require("selenium-webdriver");
const webdriverHttp = require("selenium-webdriver/http");
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

/** A headless browser (`chromium`, `firefox` or `webkit`) in Indonesian, its window
 * `width`×`height`; Chromium and Firefox listen for CSP violations on every page they open
 * (`policyViolations`). WebKitWebDriver speaks no WebDriver BiDi, so WebKit cannot run a
 * script before a page's own: the policies are the same in every engine, and the other two
 * engines check them. */
async function driverFor(browser, size = [360, 800]) {
  if (browser === "webkit") return webkitDriver(...size);
  const driver = await buildDriver(browser, size);
  const scripts = await getScriptManager([], driver);
  await scripts.addPreloadScript(WATCH_POLICY);
  driver.policyWatched = true;
  return driver;
}

/** What the open page's policy blocked so far (`null` where the engine cannot watch); fails
 * if a watched driver's page was opened without the listener. */
async function policyViolations(driver) {
  if (!driver.policyWatched) return null;
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

// WebKit: Debian's WebKitGTK (Safari's engine) through its WebKitWebDriver. It has no
// headless mode (`--headless` makes the session hang), so it draws on an Xvfb display started
// here once per process (unless DISPLAY is set already, e.g. under xvfb-run) and stopped on
// exit. WebKitWebDriver holds one session at a time: each driver gets a WebKitWebDriver of
// its own on a free port, stopped by the driver's quit().
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_BIN || "/usr/bin/WebKitWebDriver";
const WEBKIT_BROWSER = process.env.WEBKIT_BROWSER_BIN || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const children = new Set();
process.on("exit", () => { for (const child of children) child.kill("SIGKILL"); });
let display = null;

/** The X display WebKit draws on: DISPLAY, or an Xvfb of this process's own. */
function xDisplay() {
  if (process.env.DISPLAY) return Promise.resolve(process.env.DISPLAY);
  if (!display) {
    display = new Promise((resolve, reject) => {
      // -displayfd: Xvfb picks a free display number and writes it to fd 3 once it listens.
      const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        { stdio: ["ignore", "ignore", "pipe", "pipe"] });
      children.add(xvfb);
      let number = "", err = "";
      const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${err}`)), 15000);
      xvfb.stderr.on("data", (chunk) => { err += chunk; });
      xvfb.stdio[3].on("data", (chunk) => {
        number += chunk;
        if (number.includes("\n")) {
          clearTimeout(timer);
          // Running Xvfb must not keep the test process alive: it is killed on exit.
          xvfb.unref();
          for (const stream of [xvfb.stdio[2], xvfb.stdio[3]]) stream.unref();
          resolve(`:${number.trim()}`);
        }
      });
      xvfb.on("error", (e) => { clearTimeout(timer); reject(new Error(`Xvfb (apt xvfb): ${e.message}`)); });
      xvfb.on("exit", (code) => { children.delete(xvfb); reject(new Error(`Xvfb exited ${code}: ${err}`)); });
    });
  }
  return display;
}

/** A port nobody listens on now. */
function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function webkitDriver(width, height) {
  const env = { ...process.env, DISPLAY: await xDisplay() };
  const port = await freePort();
  const driverProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env, stdio: "ignore" });
  children.add(driverProcess);
  driverProcess.unref();
  driverProcess.on("exit", () => children.delete(driverProcess));
  const url = `http://127.0.0.1:${port}`;
  await waitFor("WebKitWebDriver to listen", 15000, () => fetch(`${url}/status`).then((r) => r.ok, () => false));
  const capabilities = {
    browserName: "MiniBrowser",
    "webkitgtk:browserOptions": { binary: WEBKIT_BROWSER, args: ["--automation"] },
  };
  let driver;
  try {
    driver = await WebDriver.createSession(new webdriverHttp.Executor(new webdriverHttp.HttpClient(url)), capabilities);
  } catch (e) {
    driverProcess.kill();
    throw e;
  }
  await driver.manage().window().setRect({ x: 0, y: 0, width, height });
  const quit = driver.quit.bind(driver);
  driver.quit = async () => {
    try { await quit(); } finally { driverProcess.kill(); }
  };
  return driver;
}

/** axe-core on the open page: no serious or critical violation; and nothing the page's CSP
 * blocked (where the engine can tell). */
async function accessible(driver, page) {
  const blocked = await policyViolations(driver);
  if (blocked) assert.deepEqual(blocked, [], `${page}: CSP violations`);
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

/** The merchant API of the proxy at `url` with `key`: `method route` with a JSON `body`; the
 * answer's JSON, or a failure naming the call. */
async function merchantApi(url, key, method, route, body) {
  const response = await fetch(`${url}/api/merchant/${route}`, {
    method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(response.ok, `${method} ${route}: ${response.status}`);
  return response.json();
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

/**
 * Decodes the QR code in a PNG with zbarimg, an independent decoder. Only QR symbols are looked
 * for: with every symbology on, zbar now and then reads a run of the screen (a keypad, the QR's
 * own modules) as a 1-D barcode and prints it as a second line — a flaky "879750" once failed CI.
 */
function decodeQr(file) {
  return execFileSync("zbarimg", ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", file], { encoding: "utf8" }).trim();
}

module.exports = { ROOT, PROXY_BIN, driverFor, accessible, policyViolations, addStaff, startProxy, merchantApi, waitFor, decodeQr };
