/*! Types for the PayDigital QRIS checkout widget (`paydigital-checkout.js` beside this file).
 *  Tipe untuk widget checkout QRIS PayDigital.
 *
 *  Use it from TypeScript with a triple-slash reference or by copying it into your project:
 *    /// <reference path="./paydigital-checkout.d.ts" />
 *  The file declares globals only (the loader is a classic script, not a module). */

/** A payment as the widget shows it: the `detail` of `paydigital:created`, `:paid`, `:expired`. */
interface PayDigitalPayment {
  /** The public id, `pay_...`. */
  id: string;
  /** PayDigital's invoice number. */
  invoice: string;
  status: "pending" | "paid" | "expired";
  /** What the shop asked for, in rupiah. */
  amount: number;
  /** What PayDigital added so that it can tell payments apart. */
  unique_code: number;
  /** What the customer pays: `amount + unique_code`, in rupiah. */
  total_amount: number;
  /** The QRIS payload the widget draws. */
  qr_content: string;
  /** PayDigital's payment page, when it gave one. */
  payment_url: string | null;
  /** RFC 3339. */
  expires_at: string;
  /** Seconds from `server_time` to `expires_at`. */
  expires_in: number;
  /** RFC 3339. */
  server_time: string;
  /** RFC 3339, once paid. */
  paid_at: string | null;
  /** Paid after the proxy had recorded it expired (a saved code paid late). */
  late: boolean;
  /** `false` from a sandbox proxy: no money moves (the widget shows MODE UJI / TEST MODE). */
  livemode: boolean;
}

/** Every `code` of `paydigital:error`: the table "Error codes" in README.md and docs/embed.md. */
type PayDigitalErrorCode =
  | "invalid_options"
  | "load_failed"
  | "csp_blocked"
  | "network"
  | "invalid_qr"
  | "invalid_request"
  | "unauthorized"
  | "amount_out_of_range"
  | "unknown_item"
  | "origin_not_allowed"
  | "not_found"
  | "payload_too_large"
  | "rate_limited"
  | "idempotency_conflict"
  | "idempotency_in_progress"
  | "upstream_error"
  | "upstream_timeout"
  | "upstream_busy";

/** The `detail` of `paydigital:error`. */
interface PayDigitalError {
  code: PayDigitalErrorCode;
  /** For developers; the customer sees a translated text in the widget. */
  message: string;
}

/** The order: exactly one of an open amount, a catalog item, or a payment your server made. */
type PayDigitalOrder =
  | { amount: number | string; item?: never; payment?: never }
  | { item: string; amount?: never; payment?: never }
  | { payment: `pay_${string}`; amount?: never; item?: never };

/** `PayDigitalCheckout.mount()`'s options (docs/embed.md). Unknown options are a compile error. */
type PayDigitalOptions = PayDigitalOrder & {
  /** The merchant proxy; default `/api/payments`. */
  endpoint?: string;
  description?: string;
  customerName?: string;
  /** Your order id: part of what makes "one order, one payment". */
  reference?: string;
  /** `id` (default: the page's `lang`, else Indonesian) or `en`. */
  lang?: "id" | "en";
  /** Milliseconds between status reads, 1000–60000; default 3000. */
  pollInterval?: number;
  /** Where to go a moment after payment: an http(s) URL or a path. */
  successUrl?: string;
  /** `light` (default), `dark`, or `auto` (the phone's `prefers-color-scheme`). */
  theme?: "light" | "dark" | "auto";
  onCreated?: (payment: PayDigitalPayment) => void;
  onPaid?: (payment: PayDigitalPayment) => void;
  onExpired?: (payment: PayDigitalPayment) => void;
  onError?: (error: PayDigitalError) => void;
};

/** What the widget shows: the element's `data-state`, and the handle's `state`. */
type PayDigitalState = "loading" | "pending" | "paid" | "expired" | "error";

/** What `mount()` resolves to. */
interface PayDigitalCheckoutHandle {
  /** The phase, or `destroyed` after `destroy()`. */
  readonly state: PayDigitalState | "destroyed";
  /** The payment shown, or `null`. */
  readonly payment: PayDigitalPayment | null;
  /** New options over the old: another order shows its own payment (`paydigital:created`
   *  again); the same order keeps its payment. */
  update(options: Partial<PayDigitalOptions>): void;
  /** Stops every request, timer and listener and removes the widget. Safe to call again. */
  destroy(): void;
}

interface PayDigitalCheckoutApi {
  mount(target: Element | string, options: PayDigitalOptions): Promise<PayDigitalCheckoutHandle>;
  /** Downloads and compiles the widget now (for a checkout shown later). Never rejects. */
  preload(): Promise<void>;
}

/** The events, on the element and (they bubble and are composed) on `document`. */
interface PayDigitalCheckoutEventMap {
  "paydigital:created": CustomEvent<PayDigitalPayment>;
  "paydigital:paid": CustomEvent<PayDigitalPayment>;
  "paydigital:expired": CustomEvent<PayDigitalPayment>;
  "paydigital:error": CustomEvent<PayDigitalError>;
}

/** `<paydigital-checkout>`: configured by attributes (amount, item, payment, endpoint, ...). */
interface HTMLPayDigitalCheckoutElement extends HTMLElement {
  addEventListener<K extends keyof PayDigitalCheckoutEventMap>(
    type: K,
    listener: (this: HTMLPayDigitalCheckoutElement, ev: PayDigitalCheckoutEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof PayDigitalCheckoutEventMap>(
    type: K,
    listener: (this: HTMLPayDigitalCheckoutElement, ev: PayDigitalCheckoutEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

interface HTMLElementTagNameMap {
  "paydigital-checkout": HTMLPayDigitalCheckoutElement;
}

// Bubbling, composed events reach `document` and `window` too.
interface DocumentEventMap extends PayDigitalCheckoutEventMap {}
interface WindowEventMap extends PayDigitalCheckoutEventMap {}

interface Window {
  PayDigitalCheckout: PayDigitalCheckoutApi;
}

declare var PayDigitalCheckout: PayDigitalCheckoutApi;
