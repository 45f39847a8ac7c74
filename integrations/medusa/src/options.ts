// The provider's options (medusa-config.ts) and their checks: every mistake is named when
// Medusa loads the module, not at a customer's first payment. Secrets are checked, never echoed.

import { MedusaError } from "@medusajs/framework/utils"
import { Webhook } from "standardwebhooks"

export interface PayDigitalQrisOptions {
  /** The proxy's base URL, e.g. `https://pay.toko.example` (its merchant API lives under it). */
  proxyUrl: string
  /** The proxy's `CHECKOUT_MERCHANT_KEY` (at least 32 characters). */
  merchantKey: string
  /** The proxy's `CHECKOUT_WEBHOOK_SECRET` (`whsec_…`), to verify its webhooks. */
  webhookSecret: string
  /**
   * Accept a sandbox proxy's payments (`livemode: false`, no money moved). Only for tests and
   * rehearsals: a live shop must never ship for them. Default false.
   */
  allowSandbox?: boolean
  /** How long one call to the proxy may take, in milliseconds. Default 15000. */
  requestTimeoutMs?: number
}

const MIN_MERCHANT_KEY_LENGTH = 32

function invalid(message: string): never {
  throw new MedusaError(MedusaError.Types.INVALID_DATA, `paydigital-qris: ${message}`)
}

/** Throws a MedusaError naming the first option that is missing or wrong. */
export function validateOptions(options: Record<string, unknown>): asserts options is Record<string, unknown> & PayDigitalQrisOptions {
  const { proxyUrl, merchantKey, webhookSecret, allowSandbox, requestTimeoutMs } = options ?? {}
  if (typeof proxyUrl !== "string" || proxyUrl === "") {
    invalid("option proxyUrl is missing: the proxy's base URL, e.g. https://pay.toko.example")
  }
  let url: URL
  try {
    url = new URL(proxyUrl)
  } catch {
    invalid(`option proxyUrl is not a URL: ${JSON.stringify(proxyUrl)}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    invalid(`option proxyUrl must be http(s), not ${url.protocol}`)
  }
  if (typeof merchantKey !== "string" || merchantKey.length < MIN_MERCHANT_KEY_LENGTH) {
    invalid(
      `option merchantKey is missing or shorter than ${MIN_MERCHANT_KEY_LENGTH} characters: give it the proxy's CHECKOUT_MERCHANT_KEY`
    )
  }
  if (typeof webhookSecret !== "string" || !webhookSecret.startsWith("whsec_")) {
    invalid("option webhookSecret is missing or does not start with whsec_: give it the proxy's CHECKOUT_WEBHOOK_SECRET")
  }
  try {
    new Webhook(webhookSecret)
  } catch {
    invalid("option webhookSecret is not whsec_ followed by base64")
  }
  if (allowSandbox !== undefined && typeof allowSandbox !== "boolean") {
    invalid("option allowSandbox must be true or false")
  }
  if (
    requestTimeoutMs !== undefined &&
    (typeof requestTimeoutMs !== "number" || !Number.isInteger(requestTimeoutMs) || requestTimeoutMs <= 0)
  ) {
    invalid("option requestTimeoutMs must be a whole number of milliseconds above 0")
  }
}
