// The real proxy binary with its sandbox PayDigital, started for the spec on a free port of
// 127.0.0.1 with a merchant key, a webhook secret and CHECKOUT_WEBHOOK_URL pointing at the
// Medusa the test runner will start; ready when it prints its banner line (as
// scripts/sandbox-proxy.sh waits for it). Also the sandbox's pay/expire endpoints.
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { waitFor } from "./wait"

const REPO = path.resolve(__dirname, "../../../..")
const PROXY_BIN = process.env.PAYDIGITAL_PROXY_BIN ?? path.join(REPO, "target/debug/paydigital-proxy")

/** A port nobody listens on now (the OS's choice for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export interface SandboxProxy {
  url: string
  merchantKey: string
  webhookSecret: string
  /** What the proxy wrote to stderr so far (its log), for failure messages. */
  log(): string
  stop(): Promise<void>
}

export async function startSandboxProxy(webhookUrl: string): Promise<SandboxProxy> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const merchantKey = randomBytes(24).toString("hex")
  const webhookSecret = "whsec_" + randomBytes(32).toString("base64")
  const work = mkdtempSync(path.join(os.tmpdir(), "paydigital-medusa-"))
  let stdout = ""
  let stderr = ""
  const child: ChildProcess = spawn(PROXY_BIN, ["serve", "--sandbox", "--listen", `127.0.0.1:${port}`], {
    env: {
      PATH: process.env.PATH,
      CHECKOUT_DATABASE: path.join(work, "proxy.sqlite"),
      CHECKOUT_MERCHANT_KEY: merchantKey,
      CHECKOUT_PUBLIC_URL: url,
      CHECKOUT_WEBHOOK_URL: webhookUrl,
      CHECKOUT_WEBHOOK_SECRET: webhookSecret,
      // Medusa answers the webhook route at once, but be quick about retries anyway.
      CHECKOUT_WEBHOOK_RETRY_SCHEDULE: "1s,2s,5s",
      CHECKOUT_UPSTREAM_MAX_RPS: "50",
    },
    stdio: ["ignore", "pipe", "pipe"],
  })
  child.stdout!.on("data", (chunk) => (stdout += chunk))
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  let exited: string | null = null
  // Settles only when the proxy is gone: a failed start is reported at once, not at the deadline.
  const gone = new Promise<string>((resolve) => {
    child.once("error", (error) => resolve((exited = `could not be started: ${error.message}`)))
    child.once("exit", (code, signal) => resolve((exited = `exited with ${code ?? signal}`)))
  })
  const stop = async () => {
    if (exited === null) {
      child.kill("SIGTERM")
      await gone
    }
    rmSync(work, { recursive: true, force: true })
  }
  const banner = waitFor(
    "the sandbox proxy's banner",
    async () => stdout.split("\n").some((line) => line.startsWith("PayDigital checkout: http")),
    { timeoutMs: 30_000, everyMs: 100 }
  )
  const failed = gone.then((reason) => {
    throw new Error(`the proxy ${PROXY_BIN} ${reason} before it was ready: ${stderr}`)
  })
  try {
    await Promise.race([banner, failed])
  } catch (error) {
    await stop()
    throw error
  }
  failed.catch(() => {}) // it exits when stopped: not an error then
  return { url, merchantKey, webhookSecret, log: () => stderr, stop }
}

/** The sandbox customer pays invoice `invoice` (as its Pay button does). */
export async function sandboxPay(proxy: SandboxProxy, invoice: string): Promise<void> {
  const response = await fetch(`${proxy.url}/sandbox/payments/${invoice}/pay`, { method: "POST" })
  if (!response.ok) throw new Error(`sandbox pay ${invoice}: ${response.status} ${await response.text()}`)
}

/** The sandbox lets invoice `invoice`'s code run out. */
export async function sandboxExpire(proxy: SandboxProxy, invoice: string): Promise<void> {
  const response = await fetch(`${proxy.url}/sandbox/payments/${invoice}/expire`, { method: "POST" })
  if (!response.ok) throw new Error(`sandbox expire ${invoice}: ${response.status} ${await response.text()}`)
}

/** The payment as the shop's server sees it (the proxy asks the sandbox when due). */
export async function merchantRead(proxy: SandboxProxy, id: string): Promise<any> {
  const response = await fetch(`${proxy.url}/api/merchant/payments/${id}`, {
    headers: { Authorization: `Bearer ${proxy.merchantKey}` },
  })
  if (!response.ok) throw new Error(`merchant read ${id}: ${response.status} ${await response.text()}`)
  return response.json()
}

/** The proxy's webhook events with their delivery state (`GET /api/merchant/events`). */
export async function merchantEvents(proxy: SandboxProxy): Promise<any[]> {
  const response = await fetch(`${proxy.url}/api/merchant/events?limit=100`, {
    headers: { Authorization: `Bearer ${proxy.merchantKey}` },
  })
  if (!response.ok) throw new Error(`merchant events: ${response.status} ${await response.text()}`)
  return ((await response.json()) as { data: any[] }).data
}
