// Time to QR (issue 23): from the checkout page starting to load to a QR the shopper can
// scan, in headless Chromium made a mid-range phone on a congested 4G cell (Chrome's "Slow 4G":
// 562.5 ms latency, 180 000 B/s down, 84 375 B/s up; CPU 4× slower), and without throttling.
// The widget against a plain-JS floor (bench/floor.js: the same first screen, the same proxy
// API, QR drawn by npm `qrcode`), alternating runs in one browser launch. It prints a section
// of BENCHMARKS.md; it never fails on speed.
//
// Alone: `scripts/bench.sh time-to-qr` (builds what it needs, then runs this with --write,
// which replaces the section in BENCHMARKS.md). Environment: PROXY_BIN (default the release
// build, else the debug one), RUNS (15), FAST_RUNS (15), CHROMIUM_BIN, NODE_PATH (playwright-core
// and qrcode), esbuild and brotli on PATH.
"use strict";

const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const ROOT = path.resolve(__dirname, "..");
const DIST = process.env.DIST || path.join(ROOT, "dist");
const RUNS = Number(process.env.RUNS || 15);
const FAST_RUNS = Number(process.env.FAST_RUNS || 15);
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const SLOW_4G = { offline: false, latency: 562.5, downloadThroughput: 180000, uploadThroughput: 84375 };
const CONDITIONS = [
  { name: "Slow 4G, CPU 4×", network: SLOW_4G, cpu: 4, runs: RUNS },
  { name: "no throttling", network: null, cpu: 1, runs: FAST_RUNS },
];
const VARIANTS = ["widget", "floor"];
const GOAL = { first: 1.3, repeat: 1.1 };

function proxyBin() {
  if (process.env.PROXY_BIN) return process.env.PROXY_BIN;
  const release = path.join(ROOT, "target/release/paydigital-proxy");
  return fs.existsSync(release) ? release : path.join(ROOT, "target/debug/paydigital-proxy");
}

function start(cmd, args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, RUST_LOG: "warn", ...env }, detached: true });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 30000);
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(pattern);
      if (match) { clearTimeout(timer); resolve({ child, url: match[1] }); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
  });
}

const stop = (server) => new Promise((resolve) => {
  if (!server || server.child.exitCode !== null) return resolve();
  server.child.on("exit", resolve);
  try { process.kill(-server.child.pid, "SIGTERM"); } catch { server.child.kill("SIGTERM"); }
});

const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => { const s = sorted(xs); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
/** Nearest-rank p90. */
const p90 = (xs) => { const s = sorted(xs); return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]; };
const ms = (n) => (Number.isFinite(n) ? `${Math.round(n)} ms` : "—");

/** The proxy's static folder for the run: the built widget as `make widget` left it, plus the
 * two bench pages and the floor's bundle, precompressed like Trunk's output. The pages are on
 * the proxy's origin, as a shop that mounts the proxy under its own domain has them. */
function staticDir(work) {
  const dir = path.join(work, "static");
  fs.cpSync(DIST, dir, { recursive: true });
  const bench = path.join(dir, "bench");
  fs.mkdirSync(bench, { recursive: true });
  execFileSync("esbuild", [path.join(__dirname, "floor.js"), "--bundle", "--format=iife", "--minify",
    "--log-level=warning", `--outfile=${path.join(bench, "floor.js")}`], { stdio: "inherit" });
  const page = (title, script, element) => `<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<script src="${script}" defer></script>
</head><body><main><h1>Kopi Senja</h1><p>Bayar dengan QRIS</p>
${element}
</main></body></html>
`;
  const attrs = 'amount="25000" description="Kopi Susu Gula Aren" customer-name="Pelanggan Bench"';
  fs.writeFileSync(path.join(bench, "widget.html"), page("widget", "/checkout/paydigital-checkout.js",
    `<paydigital-checkout ${attrs}></paydigital-checkout>`));
  fs.writeFileSync(path.join(bench, "floor.html"), page("floor", "/checkout/bench/floor.js",
    `<floor-checkout ${attrs}></floor-checkout>`));
  for (const f of ["floor.js", "widget.html", "floor.html"]) {
    const file = path.join(bench, f);
    execFileSync("brotli", ["-f", "-q", "11", "-k", file]);
    execFileSync("gzip", ["-f", "-9", "-k", file]);
  }
  return dir;
}

/** Runs in every page before its own scripts: resolves `__timeToQr` at the frame after a QR
 * SVG (`.pd-qr svg`, in both) appears in a shadow root, with the page's resource timings. */
const WATCH_QR = `(() => {
  let done;
  window.__timeToQr = new Promise((resolve) => { done = resolve; });
  let found = false;
  const check = (root) => {
    if (found || !root.querySelector(".pd-qr svg")) return;
    found = true;
    requestAnimationFrame(() => {
      const painted = performance.now();
      const requests = performance.getEntriesByType("resource").map((e) => ({
        url: e.name, start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize, cached: e.transferSize === 0 }));
      const nav = performance.getEntriesByType("navigation")[0];
      requests.unshift({ url: "page", start: 0, end: nav ? nav.responseEnd : NaN, bytes: nav ? nav.encodedBodySize : 0 });
      done({ painted, requests });
    });
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    new MutationObserver(() => check(root)).observe(root, { childList: true, subtree: true });
    return root;
  };
})();`;

/** What a request was, from its URL. */
function kind(url) {
  if (url === "page") return "HTML page";
  const p = new URL(url).pathname;
  if (p.endsWith("/paydigital-checkout.js")) return "loader";
  if (/paydigital-checkout-[0-9a-f]{16}\.js$/.test(p)) return "wasm-bindgen glue";
  if (p.endsWith("_bg.wasm")) return "wasm";
  if (p.endsWith("/bench/floor.js")) return "floor.js (+ qrcode)";
  if (/\/api\/payments$/.test(p)) return "create (POST)";
  if (/\/api\/payments\//.test(p)) return "status read";
  return p;
}

async function visit(context, url, condition, clearCache) {
  const page = await context.newPage();
  try {
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    if (clearCache) await cdp.send("Network.clearBrowserCache");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
    if (condition.network) await cdp.send("Network.emulateNetworkConditions", condition.network);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: condition.cpu });
    await page.goto(url, { waitUntil: "commit", timeout: 60000 });
    const result = await Promise.race([
      page.evaluate(() => window.__timeToQr),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no QR within 60 s: ${url}`)), 60000)),
    ]);
    return { painted: result.painted, requests: result.requests.map((r) => ({ ...r, kind: kind(r.url) })) };
  } finally {
    await page.close();
  }
}

async function measure(origin) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-ttqr-profile-"));
  // A persistent profile, as a phone's browser has: its disk cache and compiled-code cache
  // are what a repeat visit finds (an incognito context keeps no code cache).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  await context.addInitScript(WATCH_QR);
  const results = {};
  try {
    for (const condition of CONDITIONS) {
      const byVariant = results[condition.name] = { widget: { first: [], repeat: [] }, floor: { first: [], repeat: [] } };
      for (let i = 0; i < condition.runs; i++) {
        // Alternate which goes first, so that neither always follows the other.
        const order = i % 2 ? [...VARIANTS].reverse() : VARIANTS;
        for (const variant of order) {
          const url = `${origin}/checkout/bench/${variant}.html`;
          // First visit: nothing cached (the cache cleared, so that it is then filled for the
          // repeat visit, as "cache disabled" would not); repeat: a new tab, the same profile.
          byVariant[variant].first.push(await visit(context, url, condition, true));
          byVariant[variant].repeat.push(await visit(context, url, condition, false));
        }
      }
    }
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return results;
}

/** The median start and end of each kind of request over the runs, in the order they start. */
function split(visits) {
  const kinds = new Map();
  for (const v of visits) {
    for (const r of v.requests) {
      if (r.kind === "status read") continue;
      if (!kinds.has(r.kind)) kinds.set(r.kind, { start: [], end: [], bytes: [], cached: 0 });
      const k = kinds.get(r.kind);
      k.start.push(r.start); k.end.push(r.end); k.bytes.push(r.bytes); k.cached += r.cached ? 1 : 0;
    }
  }
  return [...kinds.entries()]
    .map(([name, k]) => ({ name, start: median(k.start), end: median(k.end), bytes: median(k.bytes), cached: k.cached * 2 > k.start.length }))
    .sort((a, b) => a.start - b.start);
}

function section(results, chromiumVersion) {
  const lines = ["## Time to QR (issue 23)", ""];
  lines.push("From the page starting to load to the frame after the QR appears, in headless "
    + `${chromiumVersion}: the widget (\`<script src=…/paydigital-checkout.js defer>\` + `
    + "`<paydigital-checkout amount=…>`) against the plain-JS floor (`bench/floor.js`: the same "
    + "first screen, the same create call to the same proxy, QR drawn by npm `qrcode`, about 100 "
    + "lines), both served by the proxy from one origin (the shop's), alternating runs in one browser "
    + "launch. Slow 4G is Chrome's profile through `Network.emulateNetworkConditions` (562.5 ms "
    + "latency, 180 000 B/s down, 84 375 B/s up) with `Emulation.setCPUThrottlingRate` 4. First "
    + "visit: the browser cache cleared (compiled code included) just before; repeat visit: a new "
    + "tab on the same profile right after. Absolute times come from a loaded 2-core machine shared "
    + "by several engineers' builds; the ratios, from the same run, are what to read.", "");
  lines.push("| condition | visit | widget median | widget p90 | floor median | floor p90 | widget ÷ floor (median) | goal | |",
    "|---|---|---:|---:|---:|---:|---:|---:|---|");
  for (const [name, byVariant] of Object.entries(results)) {
    for (const visitKind of ["first", "repeat"]) {
      const w = byVariant.widget[visitKind].map((v) => v.painted);
      const f = byVariant.floor[visitKind].map((v) => v.painted);
      if (!w.length) continue;
      const ratio = median(w) / median(f);
      const slow = name.startsWith("Slow");
      const goal = slow ? GOAL[visitKind] : null;
      lines.push(`| ${name} (${w.length} runs each) | ${visitKind} | ${ms(median(w))} | ${ms(p90(w))} | ${ms(median(f))} | ${ms(p90(f))} | **${ratio.toFixed(2)}×** | ${goal ? `≤ ${goal}×` : ""} | ${goal ? (ratio <= goal ? "met" : "**not met**") : ""} |`);
    }
  }
  lines.push("");
  for (const [name, byVariant] of Object.entries(results)) {
    if (!name.startsWith("Slow")) continue;
    for (const visitKind of ["first", "repeat"]) {
      lines.push(`Where the time goes, ${name}, ${visitKind} visit (medians from Resource Timing: `
        + "each request's start and response end, ms after the page started; its body's size as "
        + "sent, brotli):", "");
      lines.push("| | request | start | end | bytes |", "|---|---|---:|---:|---:|");
      for (const variant of VARIANTS) {
        const visits = byVariant[variant][visitKind];
        for (const r of split(visits)) lines.push(`| ${variant} | ${r.name} | ${Math.round(r.start)} | ${Math.round(r.end)} | ${Math.round(r.bytes)}${r.cached ? " (from the cache)" : ""} |`);
        lines.push(`| ${variant} | **QR painted** | | **${Math.round(median(visits.map((v) => v.painted)))}** | |`);
      }
      lines.push("");
    }
  }
  const notes = path.join(__dirname, "time-to-qr-notes.md");
  if (fs.existsSync(notes)) lines.push(fs.readFileSync(notes, "utf8").trim(), "");
  return lines.join("\n");
}

/** Replaces (or appends) the section in BENCHMARKS.md. */
function writeInto(file, text) {
  const old = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n";
  const at = old.indexOf("## Time to QR");
  let next = -1;
  if (at >= 0) { const m = old.slice(at + 3).search(/^## /m); next = m < 0 ? -1 : at + 3 + m; }
  const updated = at < 0 ? `${old.trimEnd()}\n\n${text}\n`
    : `${old.slice(0, at)}${text}\n${next < 0 ? "" : `\n${old.slice(next)}`}`;
  fs.writeFileSync(file, updated);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-ttqr-"));
  const bin = proxyBin();
  const sandbox = await start(bin, ["sandbox", "--listen", "127.0.0.1:0"], {}, /Sandbox PayDigital: (http:\/\/[0-9.:]+)/);
  let proxy;
  try {
    proxy = await start(bin, ["serve", "--listen", "127.0.0.1:0"], {
      PAYDIGITAL_BASE_URL: sandbox.url, PAYDIGITAL_API_KEY: "sandbox-secret-key", PAYDIGITAL_STORE_ID: "SANDBOX-STORE",
      CHECKOUT_DATABASE: path.join(work, "ttqr.sqlite"),
      CHECKOUT_STATIC_DIR: staticDir(work),
      // Hundreds of creates in a few minutes from one address: the budgets are not measured here.
      CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN: "1000000",
      CHECKOUT_CREATES_PER_MINUTE: "100000",
    }, /PayDigital checkout: (http:\/\/[0-9.:]+)/);
    const chromiumVersion = execFileSync(CHROMIUM, ["--version"], { encoding: "utf8" }).trim();
    const results = await measure(proxy.url);
    const text = section(results, chromiumVersion);
    if (process.argv.includes("--json")) fs.writeFileSync(process.argv[process.argv.indexOf("--json") + 1], JSON.stringify(results));
    if (process.argv.includes("--write")) writeInto(path.join(ROOT, "BENCHMARKS.md"), text);
    console.log(text);
  } finally {
    await stop(proxy);
    await stop(sandbox);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
