// Unit tests of the provider's mappings: real standardwebhooks signatures over real bodies
// into getWebhookActionAndData, status and amount mapping, options, refunds. No server: what
// needs the proxy and Medusa is in integration-tests/.

import { BigNumber, MedusaError, PaymentActions, PaymentSessionStatus } from "@medusajs/framework/utils"
import { Webhook } from "standardwebhooks"
import type { MerchantPayment } from "./merchant-api"
import { rupiahFrom, SESSION_METADATA_KEY, sessionStatusOf } from "./mapping"
import PayDigitalQrisProvider from "./service"

const SECRET = "whsec_" + Buffer.from("a test secret of thirty-two bytes!").toString("base64")
const OTHER_SECRET = "whsec_" + Buffer.from("another secret, not the proxy's one").toString("base64")
const MERCHANT_KEY = "test-merchant-key-0123456789abcdefghij"

function recordingLogger() {
  const lines: { level: string; message: string }[] = []
  const at = (level: string) => (message: string) => void lines.push({ level, message })
  return {
    lines,
    logger: { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") } as any,
  }
}

function provider(options: Record<string, unknown> = {}) {
  const { lines, logger } = recordingLogger()
  const instance = new PayDigitalQrisProvider({ logger }, {
    proxyUrl: "http://127.0.0.1:9",
    merchantKey: MERCHANT_KEY,
    webhookSecret: SECRET,
    allowSandbox: true,
    ...options,
  } as any)
  return { instance, lines }
}

function payment(overrides: Partial<MerchantPayment> = {}): MerchantPayment {
  return {
    id: "pay_wMwxABBNkry-s8Gel7yCIA",
    invoice: "PYG20261202125326002",
    status: "paid",
    amount: 125000,
    unique_code: 381,
    total_amount: 125381,
    qr_content: "000201…",
    payment_url: null,
    expires_at: "2026-12-02T13:08:26+07:00",
    paid_at: "2026-12-02T12:55:00+07:00",
    reference: "payses_01",
    metadata: { [SESSION_METADATA_KEY]: "payses_01" },
    late: false,
    checkout_url: "http://127.0.0.1:8080/pay/pay_wMwxABBNkry-s8Gel7yCIA",
    livemode: false,
    review: null,
    ...overrides,
  }
}

/** A webhook as the proxy sends it: the body, and headers signed by standardwebhooks. */
function signed(type: string, data: MerchantPayment, secret = SECRET, at = new Date()) {
  const body = JSON.stringify({ type, timestamp: at.toISOString(), livemode: data.livemode, data })
  const id = "evt_" + Math.random().toString(36).slice(2)
  const signature = new Webhook(secret).sign(id, at, body)
  const headers = {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  }
  return { data: JSON.parse(body), rawData: Buffer.from(body), headers }
}

describe("getWebhookActionAndData", () => {
  it("maps a signed payment.paid to captured for the session it names, with the session's amount", async () => {
    const { instance } = provider()
    const result = await instance.getWebhookActionAndData(signed("payment.paid", payment()))
    expect(result).toEqual({
      action: PaymentActions.SUCCESSFUL,
      data: { session_id: "payses_01", amount: 125000 },
    })
  })

  it("refuses a body signed with another secret, and says why", async () => {
    const { instance, lines } = provider()
    const result = await instance.getWebhookActionAndData(signed("payment.paid", payment(), OTHER_SECRET))
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
    expect(lines).toContainEqual({ level: "warn", message: expect.stringMatching(/refused a webhook .*signature/i) })
  })

  it("refuses a body changed after it was signed", async () => {
    const { instance } = provider()
    const webhook = signed("payment.paid", payment({ amount: 1000 }))
    const forged = webhook.rawData.toString().replace('"amount":1000', '"amount":9000000')
    const result = await instance.getWebhookActionAndData({ ...webhook, rawData: Buffer.from(forged) })
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
  })

  it("refuses a replay signed long ago", async () => {
    const { instance, lines } = provider()
    const result = await instance.getWebhookActionAndData(
      signed("payment.paid", payment(), SECRET, new Date(Date.now() - 10 * 60 * 1000))
    )
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
    expect(lines.map((l) => l.message).join("\n")).toMatch(/timestamp/i)
  })

  it("refuses a webhook without its raw body", async () => {
    const { instance, lines } = provider()
    const { data, headers } = signed("payment.paid", payment())
    const result = await instance.getWebhookActionAndData({ data, headers, rawData: undefined as any })
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
    expect(lines[0].message).toMatch(/raw body/)
  })

  it("maps payment.expired to canceled", async () => {
    const { instance } = provider()
    const result = await instance.getWebhookActionAndData(
      signed("payment.expired", payment({ status: "expired", paid_at: null }))
    )
    expect(result).toEqual({ action: PaymentActions.CANCELED, data: { session_id: "payses_01", amount: 125000 } })
  })

  it("captures a late payment and warns a person about it", async () => {
    const { instance, lines } = provider()
    const result = await instance.getWebhookActionAndData(signed("payment.paid", payment({ late: true })))
    expect(result.action).toBe(PaymentActions.SUCCESSFUL)
    expect(lines).toContainEqual({
      level: "warn",
      message: expect.stringMatching(/late payment: pay_wMwxABBNkry-s8Gel7yCIA \(session payses_01.*Rp 125381/),
    })
  })

  it("reports, and does not act on, a payment no Medusa session made", async () => {
    const { instance, lines } = provider()
    const result = await instance.getWebhookActionAndData(signed("payment.paid", payment({ metadata: {} })))
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
    expect(lines).toContainEqual({ level: "warn", message: expect.stringMatching(/names no Medusa payment session/) })
  })

  it("ignores a sandbox's payment unless allowSandbox is on", async () => {
    const { instance, lines } = provider({ allowSandbox: false })
    const result = await instance.getWebhookActionAndData(signed("payment.paid", payment({ livemode: false })))
    expect(result).toEqual({ action: PaymentActions.NOT_SUPPORTED })
    expect(lines[0].message).toMatch(/sandbox/)
    const live = await instance.getWebhookActionAndData(signed("payment.paid", payment({ livemode: true })))
    expect(live.action).toBe(PaymentActions.SUCCESSFUL)
  })

  it("holds a paid payment the proxy marked for review", async () => {
    const { instance, lines } = provider()
    const result = await instance.getWebhookActionAndData(
      signed("payment.paid", payment({ review: "amount_mismatch" }))
    )
    expect(result.action).toBe(PaymentActions.REQUIRES_MORE)
    expect(lines[0]).toEqual({ level: "warn", message: expect.stringMatching(/review \(amount_mismatch\)/) })
  })

  it("does not act on payment.created", async () => {
    const { instance } = provider()
    const result = await instance.getWebhookActionAndData(
      signed("payment.created", payment({ status: "pending", paid_at: null }))
    )
    expect(result.action).toBe(PaymentActions.PENDING)
  })
})

describe("sessionStatusOf", () => {
  it.each([
    ["pending", null, PaymentSessionStatus.PENDING],
    ["paid", null, PaymentSessionStatus.CAPTURED],
    ["expired", null, PaymentSessionStatus.CANCELED],
    ["paid", "invoice_mismatch", PaymentSessionStatus.REQUIRES_MORE],
  ] as const)("%s (review %s) is %s", (status, review, expected) => {
    expect(sessionStatusOf({ status, review })).toBe(expected)
  })

  it("refuses a status it does not know", () => {
    expect(() => sessionStatusOf({ status: "refunded" as any, review: null })).toThrow(/unknown payment status "refunded"/)
  })
})

describe("rupiahFrom", () => {
  it("reads Medusa's amounts, which are in rupiah (IDR's main unit), whatever their form", () => {
    expect(rupiahFrom(125000, "idr")).toBe(125000)
    expect(rupiahFrom("125000", "IDR")).toBe(125000)
    expect(rupiahFrom(new BigNumber(125000), "idr")).toBe(125000)
    expect(rupiahFrom({ value: "125000", precision: 20 }, "idr")).toBe(125000)
  })

  it("refuses fractions and other currencies, naming them", () => {
    expect(() => rupiahFrom(1000.5, "idr")).toThrow(/1000.5 is not whole rupiah/)
    expect(() => rupiahFrom(10, "usd")).toThrow(/rupiah only, and this payment is in USD/)
    expect(() => rupiahFrom(10, "usd")).toThrow(MedusaError)
  })
})

describe("options", () => {
  const good = { proxyUrl: "https://pay.toko.example", merchantKey: MERCHANT_KEY, webhookSecret: SECRET }

  it.each([
    [{ proxyUrl: undefined }, /proxyUrl is missing/],
    [{ proxyUrl: "pay.toko.example" }, /proxyUrl is not a URL/],
    [{ proxyUrl: "ftp://pay.toko.example" }, /proxyUrl must be http/],
    [{ merchantKey: "short" }, /merchantKey is missing or shorter than 32/],
    [{ webhookSecret: "not-a-secret" }, /webhookSecret is missing or does not start with whsec_/],
    [{ webhookSecret: "whsec_%%%" }, /webhookSecret is not whsec_ followed by base64/],
    [{ allowSandbox: "yes" }, /allowSandbox must be true or false/],
  ])("%j is refused", (change, message) => {
    expect(() => PayDigitalQrisProvider.validateOptions({ ...good, ...change })).toThrow(message)
  })

  it("never repeats a secret in its errors", () => {
    const key = "x".repeat(20)
    let text = ""
    try {
      PayDigitalQrisProvider.validateOptions({ ...good, merchantKey: key })
    } catch (error) {
      text = String((error as Error).message)
    }
    expect(text).toMatch(/merchantKey/)
    expect(text).not.toContain(key)
  })

  it("accepts good options", () => {
    expect(() => PayDigitalQrisProvider.validateOptions(good)).not.toThrow()
  })
})

describe("refundPayment", () => {
  it("records the refund in the payment's data and explains that the merchant makes it", async () => {
    const { instance, lines } = provider()
    const data = { session_id: "payses_01", ...payment() }
    const first = await instance.refundPayment({ amount: 25000, data })
    const second = await instance.refundPayment({ amount: 1000, data: first.data })
    expect(second.data?.refunds_outside_paydigital).toEqual([
      { amount: 25000, recorded_at: expect.any(String) },
      { amount: 1000, recorded_at: expect.any(String) },
    ])
    expect(second.data?.refund_note).toMatch(/cannot be refunded through PayDigital/)
    expect(lines[0]).toEqual({ level: "warn", message: expect.stringMatching(/refund of Rp 25000 for pay_/) })
  })
})
