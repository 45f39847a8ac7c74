// What the proxy's words mean in Medusa's: a payment's status as a payment session status,
// a webhook event as a webhook action, and Medusa's amounts as the proxy's rupiah. Pure
// functions, so the unit tests check every case without a server.

import {
  BigNumber,
  MedusaError,
  PaymentActions,
  PaymentSessionStatus,
} from "@medusajs/framework/utils"
import type { BigNumberInput, WebhookActionResult } from "@medusajs/framework/types"
import type { MerchantPayment } from "./merchant-api"

/** The key in a payment's `metadata` that names the Medusa payment session it was made for. */
export const SESSION_METADATA_KEY = "medusa_payment_session"

/**
 * A Medusa amount as whole rupiah. Medusa v2 keeps amounts in the currency's main unit (an
 * IDR price of 125000 is Rp 125.000, not cents) as a BigNumber; rupiah have no minor unit in
 * QRIS, so a fractional amount is refused rather than rounded (rounding would charge the
 * customer something the cart does not say).
 */
export function rupiahFrom(amount: BigNumberInput, currencyCode: string): number {
  if (currencyCode.toLowerCase() !== "idr") {
    throw new MedusaError(
      MedusaError.Types.INVALID_DATA,
      `paydigital-qris: QRIS takes rupiah only, and this payment is in ${currencyCode.toUpperCase()}: use the provider in an IDR region`
    )
  }
  const rupiah = new BigNumber(amount).numeric
  if (!Number.isSafeInteger(rupiah)) {
    throw new MedusaError(
      MedusaError.Types.INVALID_DATA,
      `paydigital-qris: amount ${rupiah} is not whole rupiah: QRIS has no smaller unit`
    )
  }
  return rupiah
}

/**
 * The session status a payment's state means. Paid is `captured`: a QRIS payment is money
 * already in the merchant's account, there is nothing to authorize first (Medusa records the
 * capture itself when authorizePayment says captured). Expired is `canceled`: the code can no
 * longer be shown (a late payment still arrives, as a paid webhook). A paid payment the proxy
 * marked for review is `requires_more`: someone must look before goods ship.
 */
export function sessionStatusOf(payment: Pick<MerchantPayment, "status" | "review">): PaymentSessionStatus {
  switch (payment.status) {
    case "paid":
      return payment.review ? PaymentSessionStatus.REQUIRES_MORE : PaymentSessionStatus.CAPTURED
    case "expired":
      return PaymentSessionStatus.CANCELED
    case "pending":
      return PaymentSessionStatus.PENDING
    default:
      throw new MedusaError(
        MedusaError.Types.UNEXPECTED_STATE,
        `paydigital-qris: the proxy reported an unknown payment status ${JSON.stringify(payment.status)}`
      )
  }
}

/** A verified webhook body (`{"type", "timestamp", "livemode", "data": <merchant view>}`). */
export interface WebhookEvent {
  type: string
  timestamp: string
  livemode: boolean
  data: MerchantPayment
}

/** What the provider decided about an event, and what it should say about it in the log. */
export interface WebhookDecision {
  result: WebhookActionResult
  /** Said with `warn`: something a person should look at. */
  warning?: string
  /** Said with `info`. */
  note?: string
}

const ACTION_OF_STATUS: Record<PaymentSessionStatus, PaymentActions> = {
  [PaymentSessionStatus.CAPTURED]: PaymentActions.SUCCESSFUL,
  [PaymentSessionStatus.AUTHORIZED]: PaymentActions.AUTHORIZED,
  [PaymentSessionStatus.PENDING]: PaymentActions.PENDING,
  [PaymentSessionStatus.REQUIRES_MORE]: PaymentActions.REQUIRES_MORE,
  [PaymentSessionStatus.ERROR]: PaymentActions.FAILED,
  [PaymentSessionStatus.CANCELED]: PaymentActions.CANCELED,
  [PaymentSessionStatus.PENDING_AUTHORIZATION]: PaymentActions.PENDING_AUTHORIZATION,
}

/**
 * The webhook action for a verified event. The amount reported is the payment's `amount` —
 * the session's amount, what Medusa authorized — not `total_amount`: the unique code on top
 * (1–999 rupiah) is PayDigital's way of telling transfers apart, and Medusa refuses to capture
 * more than a payment's amount. The total the customer transferred stays in the session's
 * data (`total_amount`, `unique_code`) for the books.
 */
export function decideWebhook(event: WebhookEvent, allowSandbox: boolean): WebhookDecision {
  const payment = event.data
  const known = ["payment.created", "payment.paid", "payment.expired"]
  if (!known.includes(event.type) || !payment || typeof payment.id !== "string") {
    return {
      result: { action: PaymentActions.NOT_SUPPORTED },
      note: `ignored a webhook of type ${JSON.stringify(event.type)}: not one this provider acts on`,
    }
  }
  const sessionId = payment.metadata?.[SESSION_METADATA_KEY]
  if (!sessionId) {
    return {
      result: { action: PaymentActions.NOT_SUPPORTED },
      warning: `${event.type} for ${payment.id} (reference ${payment.reference ?? "none"}) names no Medusa payment session (metadata.${SESSION_METADATA_KEY}): it was not made by this provider, ignored`,
    }
  }
  if (!event.livemode && !allowSandbox) {
    return {
      result: { action: PaymentActions.NOT_SUPPORTED },
      warning: `${event.type} for ${payment.id} (session ${sessionId}) comes from a sandbox proxy (livemode false, no money moved): ignored, as allowSandbox is off`,
    }
  }
  const status =
    event.type === "payment.created" ? PaymentSessionStatus.PENDING : sessionStatusOf(payment)
  const result: WebhookActionResult = {
    action: ACTION_OF_STATUS[status],
    data: { session_id: sessionId, amount: payment.amount },
  }
  if (status === PaymentSessionStatus.REQUIRES_MORE) {
    return {
      result,
      warning: `${payment.id} (session ${sessionId}) is paid but the proxy marked it for review (${payment.review}): check it in the proxy's dashboard before shipping`,
    }
  }
  if (event.type === "payment.paid" && payment.late) {
    // Medusa has no word for "paid after it expired". The money is in the account, so the
    // session is captured as usual (the cart becomes an order if it is still there), the
    // payment's data keeps `late: true`, and a person is told here.
    return {
      result,
      warning: `late payment: ${payment.id} (session ${sessionId}, reference ${payment.reference ?? "none"}) was paid Rp ${payment.total_amount} at ${payment.paid_at} after its code expired; it is captured, check the order (fulfil or refund it)`,
    }
  }
  return {
    result,
    note: `${event.type} for ${payment.id} (session ${sessionId}): ${result.action}`,
  }
}
