// The status read path before and after a change, in one run beside the floor (issue 32: the
// store moved onto one layer; `make bench`'s read path must be no slower). Three servers —
// bare axum (the floor), the proxy built before the change (PROXY_BEFORE) and the proxy now
// (target/release) — are read in turns, wrk -c10 and -c100, RUNS rounds each starting with
// another server, so that the machine's drift falls on all three alike; each reads one
// pending payment at `GET /api/payments/{id}`.
// Prints a Markdown table (medians) for BENCHMARKS.md.
//
//   PROXY_BEFORE=/path/to/old/paydigital-proxy node bench/read-path.cjs
"use strict";
const { spawn, execFile } = require("node:child_process");
const execFileAsync = require("node:util").promisify(execFile);
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const AFTER_BIN = path.join(ROOT, "target/release/paydigital-proxy");
const FLOOR_BIN = path.join(ROOT, "target/release/examples/axum_floor");
const BEFORE_BIN = process.env.PROXY_BEFORE;
const RUNS = Number(process.env.RUNS || 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function start(cmd, args, env, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, RUST_LOG: "warn", ...env } });
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

async function wrk(url, connections) {
  const { stdout } = await execFileAsync("wrk",
    [`-t${Math.min(2, connections)}`, `-c${connections}`, "-d5s", "--latency", url]);
  const rps = Number((stdout.match(/Requests\/sec:\s+([\d.]+)/) || [])[1]);
  const p99 = stdout.match(/99%\s+([\d.]+)(us|ms|s)/);
  const scale = { us: 0.001, ms: 1, s: 1000 };
  if (!rps || !p99) throw new Error(`wrk said: ${stdout}`);
  return { rps, p99: Number(p99[1]) * scale[p99[2]] };
}

async function proxy(bin, sandboxUrl, work, name) {
  const server = await start(bin, ["serve", "--listen", "127.0.0.1:0"], {
    CHECKOUT_DATABASE: path.join(work, `${name}.sqlite`),
    CHECKOUT_STATIC_DIR: path.join(ROOT, "www"),
    PAYDIGITAL_BASE_URL: sandboxUrl, PAYDIGITAL_API_KEY: "sandbox-secret-key", PAYDIGITAL_STORE_ID: "SANDBOX-STORE",
    CHECKOUT_UPSTREAM_MAX_CREATES_PER_MIN: "60000",
  }, /PayDigital checkout: (http:\/\/[0-9.:]+)\//);
  const created = await (await fetch(`${server.url}/api/payments`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount: 10000 }),
  })).json();
  if (!created.id) throw new Error(`${name}: no payment: ${JSON.stringify(created)}`);
  return { ...server, readUrl: `${server.url}/api/payments/${created.id}` };
}

async function main() {
  if (!BEFORE_BIN) throw new Error("PROXY_BEFORE: the proxy binary built before the change");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "read-path-"));
  const sandbox = await start(AFTER_BIN, ["sandbox", "--listen", "127.0.0.1:0"], {}, /Sandbox PayDigital: (http:\/\/[0-9.:]+)/);
  const floor = await start(FLOOR_BIN, ["127.0.0.1:0"], {}, /axum floor: (http:\/\/[0-9.:]+)/);
  floor.readUrl = `${floor.url}/api/payments/PYG20261124000000001`;
  const servers = { floor, before: await proxy(BEFORE_BIN, sandbox.url, work, "before"), after: await proxy(AFTER_BIN, sandbox.url, work, "after") };
  const results = {};
  try {
    for (const connections of [10, 100]) {
      for (const name of Object.keys(servers)) results[`${name}/${connections}`] = [];
      for (let round = 0; round < RUNS; round++) {
        // Each round starts with another server, so that no one always follows the same.
        const order = Object.entries(servers);
        const turned = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
        for (const [name, server] of turned) {
          results[`${name}/${connections}`].push(await wrk(server.readUrl, connections));
        }
      }
    }
  } finally {
    for (const server of [sandbox, ...Object.values(servers)]) server.child.kill();
    fs.rmSync(work, { recursive: true, force: true });
  }
  const at = (name, c, key) => median(results[`${name}/${c}`].map((r) => r[key]));
  console.log("| measure | before | after | bare axum | before ÷ floor | after ÷ floor |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const c of [10, 100]) {
    const [b, a, f] = ["before", "after", "floor"].map((n) => at(n, c, "rps"));
    console.log(`| reads/s, ${c} connections | ${b.toFixed(0)} | ${a.toFixed(0)} | ${f.toFixed(0)} | ${(100 * b / f).toFixed(0)} % | ${(100 * a / f).toFixed(0)} % |`);
    const [pb, pa, pf] = ["before", "after", "floor"].map((n) => at(n, c, "p99"));
    console.log(`| p99, ${c} connections | ${pb.toFixed(2)} ms | ${pa.toFixed(2)} ms | ${pf.toFixed(2)} ms | ${(pb / pf).toFixed(2)}× | ${(pa / pf).toFixed(2)}× |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
