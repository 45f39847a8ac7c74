// `make bench`: measures the widget in headless Chromium and the proxy under load, and writes
// BENCHMARKS.md. Every figure is a median of several runs; every comparison is a ratio from
// the same run. It prints numbers; it never fails on speed.
"use strict";

const { spawn, execFile, execFileSync } = require("node:child_process");
const execFileAsync = require("node:util").promisify(execFile);
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const ROOT = path.resolve(__dirname, "..");
const PROXY_BIN = path.join(ROOT, "target/release/paydigital-proxy");
const FLOOR_BIN = path.join(ROOT, "target/release/examples/axum_floor");
const QRCODE_JS = process.env.QRCODE_JS_BUNDLE;
const SIZE_TABLE = process.env.SIZE_TABLE || "";
const CRATE_TABLE = process.env.CRATE_TABLE || "";
const RUNS = 5;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (n, digits = 2) => Number(n).toFixed(digits);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function start(cmd, args, env, pattern) {
  return new Promise((resolve, reject) => {
    // Its own process group, so that stop() also ends the PHP server's workers.
    const child = spawn(cmd, args, { env: { ...process.env, RUST_LOG: "warn", ...env }, detached: true });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}`)), 15000);
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
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

/** A free TCP port on 127.0.0.1 (PHP's built-in server cannot report the one it picked). */
const freePort = () => new Promise((resolve) => {
  const probe = require("node:net").createServer();
  probe.listen(0, "127.0.0.1", () => { const { port } = probe.address(); probe.close(() => resolve(port)); });
});

function peakRssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number((status.match(/VmHWM:\s+(\d+)/) || [])[1] || 0);
  return kb / 1024;
}

function rssMb(pid, field = "VmRSS") {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number((status.match(new RegExp(`${field}:\\s+(\\d+)`)) || [])[1] || 0) / 1024;
}

/** Runs `task(i)` for i in 0..n, `concurrency` at a time. */
async function pool(n, concurrency, task) {
  let next = 0;
  const worker = async () => { while (next < n) { const i = next++; await task(i); } };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** wrk against url; resolves with {rps, p50, p99} (ms). Asynchronous, so that node keeps
 * draining the servers' output pipes meanwhile (PHP logs every request to stderr). */
async function wrk(url, connections, seconds) {
  const threads = Math.min(2, connections);
  const { stdout: out } = await execFileAsync("wrk",
    [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", "--timeout", "10s", url],
    { encoding: "utf8" });
  const rps = Number((out.match(/Requests\/sec:\s+([\d.]+)/) || [])[1] || 0);
  const toMs = (text) => {
    const m = text.match(/([\d.]+)(us|ms|s)/);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const p50 = toMs((out.match(/^\s+50%\s+(\S+)/m) || [])[1] || "");
  const p99 = toMs((out.match(/^\s+99%\s+(\S+)/m) || [])[1] || "");
  const non2xx = Number((out.match(/Non-2xx or 3xx responses:\s+(\d+)/) || [])[1] || 0);
  const errors = (out.match(/Socket errors:[^\n]*/) || [""])[0];
  return { rps, p50, p99, non2xx, errors };
}

/** oha at a fixed rate (open loop: requests leave on schedule whether or not earlier ones
 * came back, and latency counts from the scheduled time); resolves with {rps, p50, p99}. */
async function oha(url, connections, rate, seconds) {
  const { stdout } = await execFileAsync("oha", ["-z", `${seconds}s`, "-c", String(connections), "-q", String(rate),
    "--latency-correction", "--no-tui", "--output-format", "json", url], { encoding: "utf8", maxBuffer: 64 << 20 });
  const result = JSON.parse(stdout);
  const ok = (result.statusCodeDistribution || {})["200"] || 0;
  const all = Object.values(result.statusCodeDistribution || {}).reduce((a, b) => a + b, 0);
  return {
    rps: result.summary.requestsPerSec,
    p50: result.latencyPercentiles.p50 * 1000,
    p99: result.latencyPercentiles.p99 * 1000,
    non2xx: all - ok,
    // Reads still in flight when the time is up are not failures.
    errors: Object.keys(result.errorDistribution || {}).filter((e) => !/deadline/.test(e)).join(", "),
  };
}

async function json(url, options) {
  const response = await fetch(url, options);
  return response.json();
}

/** Status calls the sandbox has had for `invoice`; NaN for the floor server (no upstream). */
async function upstreamCalls(sandboxUrl, invoice) {
  return sandboxUrl ? (await json(`${sandboxUrl}/sandbox/calls`)).invoices[invoice] || 0 : NaN;
}

/** Medians of a few load runs, with upstream calls per 2 s and the peak RSS so far. */
function summary(runs, upstreamPerSecond, pid) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    errors: runs.map((r) => r.errors).find(Boolean) || "",
    upstreamPer2s: upstreamPerSecond * 2,
    peakRss: peakRssMb(pid),
    // Heap and buffers only, without the code pages mapped from the binary and libraries.
    anonRss: rssMb(pid, "RssAnon"),
  };
}

/** `payment`: `{id, invoice}`: the status URL takes the id (the PHP proxy and the floor, the
 * invoice), the sandbox counts calls by invoice. */
async function loadTest(label, baseUrl, payment, sandboxUrl, pid) {
  const { invoice } = payment;
  const key = payment.id || invoice;
  const rows = [];
  for (const connections of [10, 100, 1000]) {
    const runs = [];
    const before = await upstreamCalls(sandboxUrl, invoice);
    const started = Date.now();
    for (let i = 0; i < 3; i++) runs.push(await wrk(`${baseUrl}/api/payments/${key}`, connections, 6));
    const seconds = (Date.now() - started) / 1000;
    const after = await upstreamCalls(sandboxUrl, invoice);
    rows.push({ label, connections, ...summary(runs, (after - before) / seconds, pid) });
  }
  return { rows, rss: peakRssMb(pid) };
}

/** 1000 connections at fixed rates: what a shop's peak looks like (1000 open checkouts poll
 * about 330 times a second), and far past it. */
async function openLoop(baseUrl, payment, sandboxUrl, pid) {
  const { invoice } = payment;
  const rows = [];
  for (const rate of [1000, 5000, 10000]) {
    const runs = [];
    const before = await upstreamCalls(sandboxUrl, invoice);
    const started = Date.now();
    for (let i = 0; i < 3; i++) runs.push(await oha(`${baseUrl}/api/payments/${payment.id}`, 1000, rate, 5));
    const seconds = (Date.now() - started) / 1000;
    const after = await upstreamCalls(sandboxUrl, invoice);
    rows.push({ rate, ...summary(runs, (after - before) / seconds, pid) });
  }
  return rows;
}

const MERCHANT_KEY = "bench-merchant-key-0123456789abcdef0123";

/** A fresh proxy (its own SQLite file) with 10 000 open payments made through the merchant
 * API and each read once by a browser: its RSS before and after, per open payment. */
async function openPayments(upstreamEnv, work) {
  const proxy = await start(PROXY_BIN, ["serve", "--listen", "127.0.0.1:0"], {
    ...upstreamEnv,
    CHECKOUT_DATABASE: path.join(work, "open.sqlite"),
    CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"),
    // The benchmark makes thousands of payments a minute; the budget is not what it measures.
    CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN: "1000000",
    CHECKOUT_MERCHANT_KEY: MERCHANT_KEY,
  }, /PayDigital checkout: (http:\/\/[0-9.:]+)/);
  try {
    const warm = await json(`${proxy.url}/api/merchant/payments`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${MERCHANT_KEY}` },
      body: JSON.stringify({ amount: 10000 }),
    });
    await json(`${proxy.url}/api/payments/${warm.id}`);
    const before = rssMb(proxy.child.pid);
    const n = 10000;
    const ids = [];
    const started = Date.now();
    await pool(n, 32, async (i) => {
      const created = await json(`${proxy.url}/api/merchant/payments`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${MERCHANT_KEY}` },
        body: JSON.stringify({ amount: 10000 + i, reference: `ORDER-${i}` }),
      });
      ids.push(created.id);
    });
    const createSeconds = (Date.now() - started) / 1000;
    await pool(ids.length, 32, async (i) => { await json(`${proxy.url}/api/payments/${ids[i]}`); });
    const after = rssMb(proxy.child.pid);
    return { n: ids.length, before, after, peak: peakRssMb(proxy.child.pid), createSeconds };
  } finally {
    await stop(proxy);
  }
}

/** wrk on several servers at once; resolves with the sum of reads/s and the worst p99. */
async function wrkTogether(urls, connectionsEach, seconds) {
  const runs = await Promise.all(urls.map((url) => wrk(url, connectionsEach, seconds)));
  return { rps: runs.reduce((n, r) => n + r.rps, 0), p99: Math.max(...runs.map((r) => r.p99)) };
}

/** Three proxies on one PostgreSQL against one proxy on SQLite, the same sandbox, 100
 * connections in all, one payment polled: aggregate reads/s and upstream calls per 2 s. */
async function scaleOut(upstreamEnv, sandboxUrl, work) {
  const postgres = process.env.PAYDIGITAL_TEST_POSTGRES;
  if (!postgres) return null;
  const serve = (name, database) => start(PROXY_BIN, ["serve", "--listen", "127.0.0.1:0"], {
    ...upstreamEnv,
    CHECKOUT_DATABASE: database,
    CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"),
    // The benchmark makes thousands of payments a minute; the budget is not what it measures.
    CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN: "1000000",
    CHECKOUT_CREATES_PER_MINUTE: "100000",
  }, /PayDigital checkout: (http:\/\/[0-9.:]+)/);
  const measure = async (servers) => {
    const created = await json(`${servers[0].url}/api/payments`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 20000 }),
    });
    const urls = servers.map((s) => `${s.url}/api/payments/${created.id}`);
    const before = await upstreamCalls(sandboxUrl, created.invoice);
    const started = Date.now();
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await wrkTogether(urls, Math.round(100 / servers.length), 6));
    const seconds = (Date.now() - started) / 1000;
    const after = await upstreamCalls(sandboxUrl, created.invoice);
    return {
      rps: median(runs.map((r) => r.rps)),
      p99: median(runs.map((r) => r.p99)),
      upstreamPer2s: (after - before) / seconds * 2,
      rss: servers.map((s) => peakRssMb(s.child.pid)).reduce((a, b) => a + b, 0),
    };
  };
  const one = await serve("sqlite", path.join(work, "one.sqlite"));
  let single;
  try { single = await measure([one]); } finally { await stop(one); }
  const group = [];
  try {
    for (const name of ["a", "b", "c"]) group.push(await serve(name, postgres));
    return { single, three: await measure(group) };
  } finally {
    for (const server of group) await stop(server);
  }
}

function benchPage(proxyUrl) {
  const qrcodeJs = fs.readFileSync(QRCODE_JS, "utf8");
  return `<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<script>${qrcodeJs}</script>
<script src="${proxyUrl}/checkout/paydigital-checkout.js"></script></head><body></body></html>`;
}

async function browserBenchmarks(proxyUrl, sandboxUrl) {
  const page_ = benchPage(proxyUrl);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page_);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.goto(origin);
  await page.waitForFunction(() => window.PayDigitalCheckout && window.QRCode);

  // QR encode + SVG for a 250-character payload, Rust/wasm vs the npm qrcode package.
  const payload = ("00020101021226710021ID.BIZ.PAYDIGITAL.WWW01189360000000000000010213SANDBOX-STORE0303UMI"
    + "51440014ID.CO.QRIS.WWW0215ID10260000000010303UMI5204599953033605405103875802ID5912Toko Sandbox"
    + "6007JAKARTA61051011062240120PYG20261124155954001").padEnd(246, "0") + "6304";
  const qr = await page.evaluate(async ({ payload, runs }) => {
    const widget = await window.PayDigitalCheckout.load();
    const rust = () => widget.qrSvg(payload, "QR");
    const js = () => { let out; window.QRCode.toString(payload, { type: "svg", errorCorrectionLevel: "M" }, (e, s) => { out = s; }); return out; };
    const per = (fn, n) => { const t0 = performance.now(); for (let i = 0; i < n; i++) fn(); return (performance.now() - t0) / n; };
    for (let i = 0; i < 20; i++) { rust(); js(); }
    const r = [], j = [];
    for (let i = 0; i < runs; i++) { r.push(per(rust, 40)); j.push(per(js, 40)); }
    return { rust: r, js: j, length: payload.length, rustOk: rust().includes("<svg"), jsOk: js().includes("<svg") };
  }, { payload, runs: 9 });

  // From the create response to the QR painted, and from "paid" upstream to paid on screen.
  const paint = [];
  const detect = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await page.evaluate(async ({ endpoint, sandbox, amount }) => {
      sessionStorage.clear();
      let responded = 0;
      const fetch0 = window.fetch;
      window.fetch = function (input, init) {
        const p = fetch0.call(this, input, init);
        const method = (init && init.method) || (input && input.method) || "GET";
        if (method === "POST") p.then(() => { responded = performance.now(); });
        return p;
      };
      const host = document.createElement("div");
      document.body.appendChild(host);
      const checkout = await window.PayDigitalCheckout.mount(host, { amount, endpoint });
      const painted = await new Promise((resolve) => {
        const check = () => {
          if (host.shadowRoot && host.shadowRoot.querySelector(".pd-qr svg")) {
            requestAnimationFrame(() => resolve(performance.now()));
            return true;
          }
          return false;
        };
        if (check()) return;
        const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
        observer.observe(host.shadowRoot, { childList: true, subtree: true });
      });
      window.fetch = fetch0;
      const invoice = host.shadowRoot.querySelector(".pd-invoice code").textContent.trim();
      const paid = new Promise((resolve) => host.addEventListener("paydigital:paid", () => resolve(performance.now()), { once: true }));
      const t0 = performance.now();
      await fetch0(`${sandbox}/sandbox/payments/${invoice}/pay`, { method: "POST" });
      const t1 = await paid;
      checkout.destroy();
      host.remove();
      return { paint: painted - responded, detect: t1 - t0 };
    }, { endpoint: `${proxyUrl}/api/payments`, sandbox: sandboxUrl, amount: 10000 + i });
    paint.push(result.paint);
    detect.push(result.detect);
  }
  await browser.close();
  server.close();
  return { qr, paint, detect, chromium: execFileSync(process.env.CHROMIUM_BIN || "/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim() };
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "paydigital-bench-"));
  const sandbox = await start(PROXY_BIN, ["sandbox", "--listen", "127.0.0.1:0"], {}, /Sandbox PayDigital: (http:\/\/[0-9.:]+)/);
  const upstreamEnv = {
    PAYDIGITAL_BASE_URL: sandbox.url, PAYDIGITAL_API_KEY: "sandbox-secret-key", PAYDIGITAL_STORE_ID: "SANDBOX-STORE",
  };
  const proxy = await start(PROXY_BIN, ["serve", "--listen", "127.0.0.1:0"], {
    ...upstreamEnv,
    CHECKOUT_DATABASE: path.join(work, "bench.sqlite"),
    CHECKOUT_STATIC_DIR: path.join(ROOT, "dist"),
    // The benchmark makes thousands of payments a minute; the budget is not what it measures.
    CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN: "1000000",
    CHECKOUT_ALLOWED_ORIGINS: "*",
    CHECKOUT_CREATES_PER_MINUTE: "100000",
  }, /PayDigital checkout: (http:\/\/[0-9.:]+)/);
  try {
    const created = await json(`${proxy.url}/api/payments`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 10000 }),
    });
    const ours = await loadTest("paydigital-proxy", proxy.url, created, sandbox.url, proxy.child.pid);
    ours.openLoop = await openLoop(proxy.url, created, sandbox.url, proxy.child.pid);
    ours.rss = peakRssMb(proxy.child.pid);

    let php = null;
    try {
      const phpServer = await start("php", ["-S", `127.0.0.1:${await freePort()}`, path.join(__dirname, "php-proxy.php")], {
        UPSTREAM: sandbox.url, API_KEY: "sandbox-secret-key", PHP_CLI_SERVER_WORKERS: "8",
      }, /Development Server \((http:\/\/[0-9.:]+)\)/);
      const phpCreated = await json(`${proxy.url}/api/payments`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 10001 }),
      });
      php = await loadTest("PHP cURL proxy", phpServer.url, { invoice: phpCreated.invoice }, sandbox.url, phpServer.child.pid);
      await stop(phpServer);
    } catch (e) {
      console.error(`bench: PHP comparison skipped: ${e.message}`);
    }

    const floorServer = await start(FLOOR_BIN, ["127.0.0.1:0"], {}, /axum floor: (http:\/\/[0-9.:]+)/);
    const floor = await loadTest("bare axum (floor)", floorServer.url, { invoice: "PYG20261124000000001" }, null, floorServer.child.pid);
    await stop(floorServer);

    const open = await openPayments(upstreamEnv, work);
    const group = await scaleOut(upstreamEnv, sandbox.url, work);
    const browser = await browserBenchmarks(proxy.url, sandbox.url);
    write({ ours, php, floor, browser, open, group });
  } finally {
    await stop(proxy);
    await stop(sandbox);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function write({ ours, php, floor, browser, open, group }) {
  const cpu = (os.cpus()[0] || {}).model || "unknown CPU";
  const lines = [];
  lines.push("# Benchmarks", "");
  lines.push(`Written by \`make bench\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} × ${cpu}, `
    + `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${browser.chromium}. Medians of several runs; `
    + "load generator, proxy, upstream sandbox and browser share the same 2 cores, so absolute "
    + "figures are modest; ratios come from the same run.", "");

  lines.push("## Widget size", "", "What a page downloads (the CSS is inside the wasm). Budget for `make test`: see `size-budget.txt`.", "");
  lines.push(SIZE_TABLE.trim(), "");
  if (CRATE_TABLE.trim()) {
    lines.push("What each crate adds (its share of the shipped wasm — rebuilt the same way with names kept — scaled to the brotli size; an estimate, from `twiggy`):", "");
    lines.push(CRATE_TABLE.trim(), "");
  }
  // What each size change bought or cost: kept by hand beside the driver, carried into every run.
  lines.push(fs.readFileSync(path.join(__dirname, "size-notes.md"), "utf8").trim(), "");

  const q = browser.qr;
  const rust = median(q.rust), js = median(q.js);
  lines.push("## Client", "");
  lines.push(`| what | median | target |`, "|---|---:|---|");
  lines.push(`| QR encode + SVG, ${q.length}-character payload, Rust/wasm (\`qrSvg\`) | ${fmt(rust, 3)} ms | < 16 ms |`);
  lines.push(`| the same with npm \`qrcode\` ${process.env.QRCODE_JS_VERSION || ""} in the same page | ${fmt(js, 3)} ms | |`);
  lines.push(`| ratio JS / Rust | **${fmt(js / rust)}×** | > 1 |`);
  lines.push(`| create response → QR painted (next frame) | ${fmt(median(browser.paint), 1)} ms | < 16 ms |`);
  lines.push(`| sandbox marks paid → widget shows paid (paid right after the QR appears, so a full 3 s poll interval; proxy refresh 2 s) | ${fmt(median(browser.detect), 0)} ms | |`, "");

  lines.push("## Proxy: status reads (`GET /api/payments/{id}`, one pending payment)", "");
  const busiest = ours.rows.find((r) => r.connections === 1000);
  lines.push("Closed loop (`wrk`): every connection sends its next read as soon as the last one is "
    + "answered, so this is the most the machine serves, and latency is mostly queueing: with N "
    + "connections the mean wait is N ÷ reads/s whatever the server does (here, at 1000 "
    + `connections: ${fmt(1000 / Math.max(busiest.rps, 1) * 1000, 1)} ms). The p99 at 1000 is `
    + "wrk and the server taking turns on 2 cores; the open-loop table below is the one to read "
    + "for latency at 1000 connections. From one `make bench` to the next, reads/s and p99 move "
    + "by up to a quarter on this shared machine (seen: 27–38 k reads/s at 100 connections).", "");
  lines.push("| server | connections | reads/s | p50 | p99 | upstream calls per 2 s | peak RSS so far | non-2xx / socket errors |", "|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const run of [ours, floor, php].filter(Boolean)) {
    for (const r of run.rows) {
      const upstream = Number.isNaN(r.upstreamPer2s) ? "—" : fmt(r.upstreamPer2s, 1);
      lines.push(`| ${r.label} | ${r.connections} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} ms | ${fmt(r.p99)} ms | ${upstream} | ${fmt(r.peakRss, 1)} MB | ${r.non2xx}${r.errors ? ` (${r.errors})` : ""} |`);
    }
  }
  lines.push("", "PHP's built-in server closes every connection after its response; wrk reports those as "
    + "socket read errors, and still counts the responses.", "");
  if (ours.openLoop) {
    lines.push("Open loop (`oha -q`, latency counted from when each read was due): 1000 connections, "
      + "reads at a fixed rate. A shop with 1000 checkouts open gets about 330 reads/s (one per "
      + "browser every 3 s).", "");
    lines.push("| server | connections | reads/s asked | reads/s served | p50 | p99 | upstream calls per 2 s | peak RSS so far | non-2xx / errors |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of ours.openLoop) {
      lines.push(`| paydigital-proxy | 1000 | ${r.rate} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} ms | ${fmt(r.p99)} ms | ${fmt(r.upstreamPer2s, 1)} | ${fmt(r.peakRss, 1)} MB | ${r.non2xx}${r.errors ? ` (${r.errors})` : ""} |`);
    }
    lines.push("");
  }
  lines.push(`Peak RSS of paydigital-proxy: **${fmt(ours.rss, 1)} MB** (target ≤ 30 MB)`
    + (floor ? `; bare axum answering constant JSON, the floor under any axum server: ${fmt(floor.rss, 1)} MB` : "")
    + (php ? `; the PHP built-in server (8 workers): ${fmt(php.rss, 1)} MB for its master process.` : "."), "");
  lines.push("Most of it is connections: hyper keeps an 8 KB read and an 8 KB write buffer for each "
    + "keep-alive connection (not configurable in hyper 1.x), and every wrk run opens 1000 new "
    + "ones; the peak comes from the 1000-connection runs, after 10 and 100.", "");
  if (php) {
    const at = (run, c) => run.rows.find((r) => r.connections === c);
    lines.push(`At 100 connections paydigital-proxy serves **${fmt(at(ours, 100).rps / Math.max(at(php, 100).rps, 1), 1)}×** the reads of the PHP proxy, `
      + `with ${fmt(at(ours, 100).upstreamPer2s, 1)} upstream calls per 2 s against ${fmt(at(php, 100).upstreamPer2s, 0)}.`, "");
  }
  lines.push("Targets from issue 7: ≥ 20 k reads/s, p99 ≤ 5 ms, RSS ≤ 30 MB, 1 upstream call per invoice per 2 s.", "");

  if (floor) {
    const at = (run, c) => run.rows.find((r) => r.connections === c);
    const ratio = (a, b) => a / Math.max(b, 1e-9);
    const verdict = (ok) => (ok ? "met" : "**not met**");
    const r10 = ratio(at(ours, 10).rps, at(floor, 10).rps);
    const r100 = ratio(at(ours, 100).rps, at(floor, 100).rps);
    const p99 = ratio(at(ours, 100).p99, at(floor, 100).p99);
    const rss = ratio(at(ours, 100).peakRss, at(floor, 100).peakRss);
    lines.push("### The read path against the floor (issue 14)", "");
    lines.push("The same run, the same machine, the same wrk settings; the floor is bare axum "
      + "answering a constant payment (`examples/axum_floor.rs`, same release profile). Peak RSS is "
      + "each server's after its 100-connection runs.", "");
    lines.push("| measure | paydigital-proxy | bare axum | ratio | goal | |", "|---|---:|---:|---:|---|---|");
    lines.push(`| reads/s, 10 connections | ${fmt(at(ours, 10).rps, 0)} | ${fmt(at(floor, 10).rps, 0)} | ${fmt(r10 * 100, 0)} % | ≥ 60 % | ${verdict(r10 >= 0.6)} |`);
    lines.push(`| reads/s, 100 connections | ${fmt(at(ours, 100).rps, 0)} | ${fmt(at(floor, 100).rps, 0)} | ${fmt(r100 * 100, 0)} % | ≥ 60 % | ${verdict(r100 >= 0.6)} |`);
    lines.push(`| p99, 100 connections | ${fmt(at(ours, 100).p99)} ms | ${fmt(at(floor, 100).p99)} ms | ${fmt(p99)}× | ≤ 1.5× | ${verdict(p99 <= 1.5)} |`);
    lines.push(`| peak RSS after 10 and 100 connections | ${fmt(at(ours, 100).peakRss, 1)} MB | ${fmt(at(floor, 100).peakRss, 1)} MB | ${fmt(rss)}× | ≤ 1.5× | ${verdict(rss <= 1.5)} |`);
    const anon = ratio(at(ours, 100).anonRss, at(floor, 100).anonRss);
    lines.push(`| of which anonymous (heap, buffers), after 100 connections | ${fmt(at(ours, 100).anonRss, 1)} MB | ${fmt(at(floor, 100).anonRss, 1)} MB | ${fmt(anon)}× | | |`);
    lines.push("");
    lines.push("Where the RSS difference is: at start, before any load, the proxy holds about 10 MB "
      + "and the floor 3 MB. 7 MB of the proxy's are clean pages of its own 9.4 MB of code "
      + "(`size`: SQLite, rustls, the PostgreSQL driver, clap, the regex of the log filter, the "
      + "sandbox, the QR and PNG encoders) that the kernel maps in around each page the start "
      + "touches; the floor's code is 0.9 MB. Load adds about the same to both (connection "
      + "buffers). The anonymous row is the memory that load grows.", "");
  }
  if (open) {
    const per = (open.after - open.before) * 1024 * 1024 / open.n;
    lines.push(`RSS with ${open.n} open payments (made through the merchant API in ${fmt(open.createSeconds, 1)} s, `
      + `each then read once by a browser, so the ${4096} most recent are held in memory): `
      + `**${fmt(open.after, 1)} MB** (${fmt(open.before, 1)} MB with one), about **${fmt(per / 1024, 1)} KB per open payment** `
      + "(the in-memory copy of a watched payment, the SQLite page cache, the confirmation schedule's "
      + "work). Payments nobody reads cost nothing in memory: they live in the store.", "");
  }
  // What each read-path change bought: measured by hand (CPU time per read), kept beside the driver.
  lines.push(fs.readFileSync(path.join(__dirname, "read-path-notes.md"), "utf8").trim(), "");
  if (group) {
    lines.push("## Three proxies on PostgreSQL against one on SQLite", "");
    lines.push("The same sandbox, one payment polled with 100 connections in all (spread evenly over "
      + "the instances), three 6 s runs each. Everything shares the same 2 cores, PostgreSQL "
      + "included: this shows what coordination costs, not what more machines buy.", "");
    lines.push("| setup | reads/s (all instances) | worst p99 | upstream calls per 2 s for the invoice | RSS (sum of peaks) |", "|---|---:|---:|---:|---:|");
    lines.push(`| one proxy, SQLite | ${fmt(group.single.rps, 0)} | ${fmt(group.single.p99)} ms | ${fmt(group.single.upstreamPer2s, 1)} | ${fmt(group.single.rss, 1)} MB |`);
    lines.push(`| three proxies, one PostgreSQL | ${fmt(group.three.rps, 0)} | ${fmt(group.three.p99)} ms | ${fmt(group.three.upstreamPer2s, 1)} | ${fmt(group.three.rss, 1)} MB |`);
    lines.push("", "Upstream calls stay at one per invoice per refresh window (2 s) for the whole group: "
      + "the refresh claim in the database is the gate. Reads stay in each instance's memory between "
      + "claims; each instance asks the database once per window per watched payment.", "");
  }
  if (process.env.WEBHOOK_SECTION) lines.push("", process.env.WEBHOOK_SECTION.trim(), "");
  fs.writeFileSync(path.join(ROOT, "BENCHMARKS.md"), lines.join("\n"));
  console.log(lines.join("\n"));
}

main().catch((e) => { console.error(e); process.exit(1); });
