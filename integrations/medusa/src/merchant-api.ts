// A small client for the PayDigital Checkout proxy's merchant API (docs/openapi.json,
// /work/shared/spec/merchant-api.md): create a payment for a Medusa payment session and read
// one back. Only the fields this provider uses are typed; the proxy sends more.

/** The merchant view of a payment (the OpenAPI document's `MerchantPayment`). */
export interface MerchantPayment {
  id: string
  invoice: string
  status: "pending" | "paid" | "expired"
  /** What the shop asked for, whole rupiah. */
  amount: number
  /** PayDigital's 1–999 rupiah that tells payments of the same amount apart. */
  unique_code: number
  /** What the customer transfers: amount + unique_code. */
  total_amount: number
  qr_content: string
  payment_url: string | null
  expires_at: string
  paid_at: string | null
  reference: string | null
  metadata: Record<string, string>
  late: boolean
  checkout_url: string | null
  /** False for a sandbox proxy's payments: no money moved. */
  livemode: boolean
  /** Set when PayDigital said something about it that the proxy did not believe. */
  review: string | null
}

/** `POST /api/merchant/payments`'s body. */
export interface CreatePaymentRequest {
  amount: number
  reference?: string
  description?: string
  customer_name?: string
  metadata?: Record<string, string>
}

/** The proxy answered with an error (`{"error": {"code", "message", "field"}}`) or not at all. */
export class MerchantApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or 0 when the proxy could not be reached. */
    readonly status: number,
    /** The proxy's `error.code` (`amount_out_of_range`, `not_found`, …), when it sent one. */
    readonly code?: string,
    /** The request field the proxy named as wrong, when it named one. */
    readonly field?: string
  ) {
    super(message)
    this.name = "MerchantApiError"
  }
}

export class MerchantApi {
  private readonly baseUrl: string

  constructor(
    proxyUrl: string,
    // Never logged and never part of an error message.
    private readonly merchantKey: string,
    private readonly timeoutMs: number
  ) {
    this.baseUrl = proxyUrl.replace(/\/+$/, "")
  }

  /** Creates a payment; the same `idempotencyKey` with the same body gives the same payment. */
  createPayment(request: CreatePaymentRequest, idempotencyKey: string): Promise<MerchantPayment> {
    return this.send("POST", "/api/merchant/payments", request, { "Idempotency-Key": idempotencyKey })
  }

  /** Reads a payment; the proxy asks PayDigital first when it has not within its window. */
  getPayment(id: string): Promise<MerchantPayment> {
    return this.send("GET", `/api/merchant/payments/${encodeURIComponent(id)}`)
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
  ): Promise<MerchantPayment> {
    const url = `${this.baseUrl}${path}`
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.merchantKey}`,
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, a timeout, …).
      const cause = (error as { cause?: { code?: string; message?: string } })?.cause
      const reason = [error instanceof Error ? error.message : String(error), cause?.code ?? cause?.message]
        .filter(Boolean)
        .join(": ")
      throw new MerchantApiError(`cannot reach the PayDigital proxy (${method} ${url}): ${reason}`, 0)
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      throw new MerchantApiError(
        `the PayDigital proxy answered ${method} ${url} with ${response.status} and a body that is not JSON`,
        response.status
      )
    }
    if (!response.ok) {
      const detail = (parsed as { error?: { code?: string; message?: string; field?: string } })?.error
      throw new MerchantApiError(
        `the PayDigital proxy refused ${method} ${path} (${response.status} ${detail?.code ?? "no code"}): ${
          detail?.message ?? "no message"
        }`,
        response.status,
        detail?.code,
        detail?.field ?? undefined
      )
    }
    return parsed as MerchantPayment
  }
}
