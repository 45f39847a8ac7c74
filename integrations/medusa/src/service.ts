// The payment provider itself: Medusa's payment module calls these methods for payment
// sessions of provider `pp_paydigital-qris_{id}`, and its `/hooks/payment/paydigital-qris_{id}`
// route hands the proxy's webhooks to getWebhookActionAndData.

import { AbstractPaymentProvider, MedusaError } from "@medusajs/framework/utils"
import type {
  AuthorizePaymentInput,
  AuthorizePaymentOutput,
  CancelPaymentInput,
  CancelPaymentOutput,
  CapturePaymentInput,
  CapturePaymentOutput,
  DeletePaymentInput,
  DeletePaymentOutput,
  GetPaymentStatusInput,
  GetPaymentStatusOutput,
  InitiatePaymentInput,
  InitiatePaymentOutput,
  Logger,
  ProviderWebhookPayload,
  RefundPaymentInput,
  RefundPaymentOutput,
  RetrievePaymentInput,
  RetrievePaymentOutput,
  UpdatePaymentInput,
  UpdatePaymentOutput,
  WebhookActionResult,
} from "@medusajs/framework/types"
import { PaymentActions } from "@medusajs/framework/utils"
import { Webhook } from "standardwebhooks"
import { MerchantApi, MerchantApiError, type MerchantPayment } from "./merchant-api"
import {
  decideWebhook,
  rupiahFrom,
  SESSION_METADATA_KEY,
  sessionStatusOf,
  type WebhookEvent,
} from "./mapping"
import { validateOptions, type PayDigitalQrisOptions } from "./options"

/** What a payment session's `data` holds: the storefront reads `id` to show the widget. */
export interface PayDigitalSessionData extends Record<string, unknown> {
  session_id: string
  /** The proxy's payment id, `pay_…`: `<paydigital-checkout payment="…">`. */
  id: string
  invoice: string
  status: MerchantPayment["status"]
  amount: number
  unique_code: number
  /** What the customer transfers (amount + unique code). */
  total_amount: number
  qr_content: string
  checkout_url: string | null
  expires_at: string
  paid_at: string | null
  late: boolean
  livemode: boolean
  review: string | null
}

/** A refund Medusa recorded that the merchant must make outside PayDigital. */
interface RefundOutsidePayDigital {
  amount: number
  recorded_at: string
}

const REFUND_NOTE =
  "QRIS payments cannot be refunded through PayDigital: the merchant sends the money back to the customer (bank transfer or e-wallet); Medusa only records it."

type Cradle = { logger: Logger }

export default class PayDigitalQrisProvider extends AbstractPaymentProvider<PayDigitalQrisOptions> {
  static identifier = "paydigital-qris"

  private readonly logger: Logger
  private readonly api: MerchantApi
  private readonly webhook: Webhook
  private readonly allowSandbox: boolean

  static validateOptions(options: Record<string, unknown>): void {
    validateOptions(options)
  }

  constructor(cradle: Cradle, options: PayDigitalQrisOptions) {
    super(cradle, options)
    validateOptions(options as unknown as Record<string, unknown>)
    this.logger = cradle.logger
    this.api = new MerchantApi(options.proxyUrl, options.merchantKey, options.requestTimeoutMs ?? 15_000)
    this.webhook = new Webhook(options.webhookSecret)
    this.allowSandbox = options.allowSandbox ?? false
  }

  async initiatePayment(input: InitiatePaymentInput): Promise<InitiatePaymentOutput> {
    const sessionId = input.data?.session_id
    if (typeof sessionId !== "string" || sessionId === "") {
      throw new MedusaError(
        MedusaError.Types.INVALID_DATA,
        "paydigital-qris: initiatePayment needs data.session_id (Medusa's payment module sets it)"
      )
    }
    const amount = rupiahFrom(input.amount, input.currency_code)
    // Medusa's idempotency key (the session's id unless a workflow gave another): a retried
    // initiate gets the same payment back from the proxy, never a second QR code.
    const key = input.context?.idempotency_key ?? sessionId
    const payment = await this.call(() =>
      this.api.createPayment(
        {
          amount,
          reference: sessionId,
          description: `Medusa ${sessionId}`,
          ...(customerName(input) ? { customer_name: customerName(input) } : {}),
          metadata: { [SESSION_METADATA_KEY]: sessionId },
        },
        key
      )
    )
    return { id: payment.id, status: sessionStatusOf(payment), data: this.sessionData(sessionId, payment) }
  }

  async updatePayment(input: UpdatePaymentInput): Promise<UpdatePaymentOutput> {
    const data = this.known(input.data)
    const amount = rupiahFrom(input.amount, input.currency_code)
    if (amount === data.amount) {
      return { status: sessionStatusOf(data), data }
    }
    // A QRIS code is for one amount: a new total needs a new payment (and a key of its own,
    // or the proxy would refuse the same key with another body).
    const payment = await this.call(() =>
      this.api.createPayment(
        {
          amount,
          reference: data.session_id,
          description: `Medusa ${data.session_id}`,
          metadata: { [SESSION_METADATA_KEY]: data.session_id },
        },
        `${data.session_id}:${amount}`
      )
    )
    return { status: sessionStatusOf(payment), data: this.sessionData(data.session_id, payment) }
  }

  async authorizePayment(input: AuthorizePaymentInput): Promise<AuthorizePaymentOutput> {
    return this.statusWithData(input.data)
  }

  async getPaymentStatus(input: GetPaymentStatusInput): Promise<GetPaymentStatusOutput> {
    return this.statusWithData(input.data)
  }

  async retrievePayment(input: RetrievePaymentInput): Promise<RetrievePaymentOutput> {
    const { data } = await this.statusWithData(input.data)
    return { data }
  }

  // A QRIS payment is captured when it is paid (authorizePayment says so); Medusa's own
  // capture has nothing left to ask of PayDigital.
  async capturePayment(input: CapturePaymentInput): Promise<CapturePaymentOutput> {
    return { data: input.data }
  }

  // PayDigital cannot void a QR code: it stays payable until it expires, and a payment made
  // after this still arrives as a webhook (reported, see decideWebhook).
  async cancelPayment(input: CancelPaymentInput): Promise<CancelPaymentOutput> {
    const data = this.known(input.data)
    this.logger.info(
      `paydigital-qris: session ${data.session_id} canceled in Medusa; its QR code ${data.id} stays payable until ${data.expires_at}`
    )
    return { data }
  }

  async deletePayment(input: DeletePaymentInput): Promise<DeletePaymentOutput> {
    return { data: input.data }
  }

  async refundPayment(input: RefundPaymentInput): Promise<RefundPaymentOutput> {
    const data = this.known(input.data)
    const amount = rupiahFrom(input.amount, "idr")
    const earlier = (data.refunds_outside_paydigital as RefundOutsidePayDigital[] | undefined) ?? []
    const refund: RefundOutsidePayDigital = { amount, recorded_at: new Date().toISOString() }
    this.logger.warn(
      `paydigital-qris: refund of Rp ${amount} for ${data.id} (session ${data.session_id}) recorded in Medusa. ${REFUND_NOTE}`
    )
    return { data: { ...data, refunds_outside_paydigital: [...earlier, refund], refund_note: REFUND_NOTE } }
  }

  async getWebhookActionAndData(payload: ProviderWebhookPayload["payload"]): Promise<WebhookActionResult> {
    const raw = payload.rawData
    if (raw === undefined || raw === null || (typeof raw !== "string" && !Buffer.isBuffer(raw))) {
      this.logger.warn(
        "paydigital-qris: refused a webhook without its raw body (the signature is over the exact bytes)"
      )
      return { action: PaymentActions.NOT_SUPPORTED }
    }
    let event: WebhookEvent
    try {
      // Checks the HMAC (in constant time) and that webhook-timestamp is within five minutes.
      event = this.webhook.verify(raw, payload.headers as Record<string, string>) as WebhookEvent
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      this.logger.warn(
        `paydigital-qris: refused a webhook (webhook-id ${JSON.stringify(payload.headers?.["webhook-id"] ?? null)}): ${reason}`
      )
      return { action: PaymentActions.NOT_SUPPORTED }
    }
    const decision = decideWebhook(event, this.allowSandbox)
    if (decision.warning) this.logger.warn(`paydigital-qris: ${decision.warning}`)
    if (decision.note) this.logger.info(`paydigital-qris: ${decision.note}`)
    return decision.result
  }

  /** The payment's status now, asking the proxy (which asks PayDigital when due). */
  private async statusWithData(
    stored: Record<string, unknown> | undefined
  ): Promise<{ status: ReturnType<typeof sessionStatusOf>; data: PayDigitalSessionData }> {
    const data = this.known(stored)
    const payment = await this.call(() => this.api.getPayment(data.id))
    if (!payment.livemode && !this.allowSandbox) {
      throw new MedusaError(
        MedusaError.Types.NOT_ALLOWED,
        `paydigital-qris: ${payment.id} is a sandbox payment (livemode false, no money moved) and allowSandbox is off`
      )
    }
    return { status: sessionStatusOf(payment), data: { ...data, ...this.sessionData(data.session_id, payment) } }
  }

  private sessionData(sessionId: string, payment: MerchantPayment): PayDigitalSessionData {
    return {
      session_id: sessionId,
      id: payment.id,
      invoice: payment.invoice,
      status: payment.status,
      amount: payment.amount,
      unique_code: payment.unique_code,
      total_amount: payment.total_amount,
      qr_content: payment.qr_content,
      checkout_url: payment.checkout_url,
      expires_at: payment.expires_at,
      paid_at: payment.paid_at,
      late: payment.late,
      livemode: payment.livemode,
      review: payment.review,
    }
  }

  /** A session's data as initiatePayment wrote it, or an error saying what is missing. */
  private known(data: Record<string, unknown> | undefined): PayDigitalSessionData {
    if (!data || typeof data.id !== "string" || !data.id.startsWith("pay_") || typeof data.session_id !== "string") {
      throw new MedusaError(
        MedusaError.Types.INVALID_DATA,
        `paydigital-qris: this payment session has no PayDigital payment (data.id pay_… and data.session_id): was it made by this provider?`
      )
    }
    return data as PayDigitalSessionData
  }

  /** Runs a merchant API call, turning its failure into a MedusaError that says what happened. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request()
    } catch (error) {
      if (!(error instanceof MerchantApiError)) throw error
      const type =
        error.status === 404
          ? MedusaError.Types.NOT_FOUND
          : error.status === 400 || error.status === 409
            ? MedusaError.Types.INVALID_DATA
            : MedusaError.Types.UNEXPECTED_STATE
      const hint =
        error.status === 401 ? " (check merchantKey: it must be the proxy's CHECKOUT_MERCHANT_KEY)" : ""
      this.logger.error(`paydigital-qris: ${error.message}${hint}`)
      throw new MedusaError(type, `paydigital-qris: ${error.message}${hint}`)
    }
  }
}

function customerName(input: InitiatePaymentInput): string | undefined {
  const customer = input.context?.customer
  const name = [customer?.first_name, customer?.last_name].filter(Boolean).join(" ").trim()
  return name ? name.slice(0, 100) : undefined
}
