// A real Medusa (medusaIntegrationTestRunner, on the test PostgreSQL) with this provider,
// beside the real proxy binary and its sandbox PayDigital: a customer's cart is paid by QRIS
// and the proxy's signed webhook, through Medusa's /hooks/payment route, makes it an order.
// Also: a forged webhook changes nothing, an expired code cancels the session and a late
// payment still becomes an order and is reported, and a refund is recorded and explained.
import { medusaIntegrationTestRunner } from "@medusajs/test-utils"
import { logger as frameworkLogger } from "@medusajs/framework/logger"
import { randomBytes } from "node:crypto"
import { Webhook } from "standardwebhooks"
import {
  freePort,
  merchantEvents,
  merchantRead,
  sandboxExpire,
  sandboxPay,
  startSandboxProxy,
  type SandboxProxy,
} from "../helpers/sandbox-proxy"
import { cartWithQrisSession, onlyOrder, PRICE, PROVIDER_ID, setUpShop, storeCart, WEBHOOK_PATH } from "../helpers/shop"
import { waitFor } from "../helpers/wait"

jest.setTimeout(240_000)

// Medusa's webhook route waits about 5 s before its subscriber runs (webhook_delay): the
// waits below are for that and the proxy's 5-s checks, with room for a loaded machine.
const WEBHOOK_WAIT = { timeoutMs: 60_000 }

let proxy: SandboxProxy

// Before the runner's own beforeAll (it is registered later): Medusa's port has to be known
// for the proxy's CHECKOUT_WEBHOOK_URL, and the proxy's URL and secrets for medusa-config.ts.
beforeAll(async () => {
  const medusaPort = await freePort()
  process.env.PORT = String(medusaPort)
  proxy = await startSandboxProxy(`http://127.0.0.1:${medusaPort}${WEBHOOK_PATH}`)
  process.env.PAYDIGITAL_PROXY_URL = proxy.url
  process.env.CHECKOUT_MERCHANT_KEY = proxy.merchantKey
  process.env.CHECKOUT_WEBHOOK_SECRET = proxy.webhookSecret
})

afterAll(async () => {
  await proxy?.stop()
})

medusaIntegrationTestRunner({
  testSuite: ({ api, getContainer }) => {
    // What the provider says (it logs through Medusa's logger): observed, not replaced.
    let said: jest.SpyInstance[] = []
    const log = () => said.flatMap((spy) => spy.mock.calls.map((call) => String(call[0])))

    beforeEach(() => {
      const loggers = new Set([frameworkLogger, getContainer().resolve("logger")])
      said = [...loggers].flatMap((logger: any) => [jest.spyOn(logger, "warn"), jest.spyOn(logger, "info")])
    })
    afterEach(() => said.forEach((spy) => spy.mockRestore()))

    it("completes the cart into an order when the proxy's webhook says the QRIS payment is paid", async () => {
      const shop = await setUpShop(api, getContainer())
      const { cartId, session } = await cartWithQrisSession(api, shop)

      expect(session.amount).toBe(PRICE)
      const payment = session.data
      expect(payment).toMatchObject({
        session_id: session.id,
        id: expect.stringMatching(/^pay_[A-Za-z0-9_-]{22,}$/),
        status: "pending",
        amount: PRICE,
        total_amount: PRICE + payment.unique_code,
        checkout_url: `${proxy.url}/pay/${payment.id}`,
        qr_content: expect.stringMatching(/^000201/),
      })
      // The proxy holds it as the merchant's payment for this session, made once.
      expect(await merchantRead(proxy, payment.id)).toMatchObject({
        source: "merchant",
        amount: PRICE,
        reference: session.id,
        metadata: { medusa_payment_session: session.id },
      })

      await sandboxPay(proxy, payment.invoice)
      const completed = await waitFor(
        "the cart to complete",
        async () => (await storeCart(api, shop, cartId)).completed_at,
        WEBHOOK_WAIT
      )
      expect(completed).toBeTruthy()

      const order = await onlyOrder(api, shop)
      expect(order.total).toBe(PRICE)
      const [captured] = order.payment_collections[0].payments
      expect(captured.provider_id).toBe(PROVIDER_ID)
      expect(captured.amount).toBe(PRICE)
      expect(captured.captured_at).toBeTruthy()
      expect(captured.captures.map((c: any) => c.amount)).toEqual([PRICE])
      // What the customer transferred (with the unique code) is kept for the books.
      expect(captured.data).toMatchObject({ id: payment.id, status: "paid", total_amount: payment.total_amount, late: false })

      // The webhook was what did it: delivered to Medusa's route, answered 200.
      const paid = (await merchantEvents(proxy)).find((e) => e.type === "payment.paid" && e.payment_id === payment.id)
      expect(paid.delivery).toMatchObject({ state: "delivered", last_status: "HTTP 200" })
      const sameReference = await fetch(`${proxy.url}/api/merchant/payments?reference=${session.id}`, {
        headers: { Authorization: `Bearer ${proxy.merchantKey}` },
      })
      expect(((await sameReference.json()) as { data: unknown[] }).data).toHaveLength(1)

      // A refund: recorded by Medusa, made by the merchant outside PayDigital (and said so).
      await api.post(`/admin/payments/${captured.id}/refund`, { amount: 25000 }, shop.admin)
      const refunded = (await api.get(`/admin/payments/${captured.id}?fields=%2Bdata`, shop.admin)).data.payment
      expect(refunded.refunds.map((r: any) => r.amount)).toEqual([25000])
      expect(refunded.data.refunds_outside_paydigital).toEqual([{ amount: 25000, recorded_at: expect.any(String) }])
      expect(log()).toContainEqual(expect.stringMatching(/refund of Rp 25000 for .*cannot be refunded through PayDigital/))
    })

    it("refuses a webhook with a bad signature and captures nothing", async () => {
      const shop = await setUpShop(api, getContainer())
      const { cartId, collectionId, session } = await cartWithQrisSession(api, shop)
      const payment = await merchantRead(proxy, session.data.id)

      // A "paid" event for this session, signed with a secret that is not the proxy's.
      const body = JSON.stringify({
        type: "payment.paid",
        timestamp: new Date().toISOString(),
        livemode: false,
        data: { ...payment, status: "paid", paid_at: new Date().toISOString() },
      })
      const webhookId = `evt_forged${randomBytes(8).toString("hex")}`
      const now = new Date()
      const signature = new Webhook("whsec_" + randomBytes(32).toString("base64")).sign(webhookId, now, body)
      const response = await api.post(WEBHOOK_PATH, body, {
        headers: {
          "content-type": "application/json",
          "webhook-id": webhookId,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": signature,
        },
        transformRequest: [(data: string) => data],
      })
      // Medusa's route answers before any provider sees the body; the provider refuses it.
      expect(response.status).toBe(200)
      await waitFor(
        "the provider to refuse the forged webhook",
        async () => log().find((line) => line.includes("refused a webhook") && line.includes(webhookId)),
        WEBHOOK_WAIT
      )
      // The subscriber stops at not_supported: no workflow runs after the refusal.
      expect((await storeCart(api, shop, cartId)).completed_at).toBeNull()
      const collection = await getContainer()
        .resolve("payment")
        .retrievePaymentCollection(collectionId, { relations: ["payments", "payment_sessions"] })
      expect(collection.payments).toEqual([])
      expect(collection.payment_sessions?.[0].status).toBe("pending")
      expect((await merchantRead(proxy, payment.id)).status).toBe("pending")
    })

    it("cancels the session when the code expires, and still makes the order of a late payment, reporting it", async () => {
      const shop = await setUpShop(api, getContainer())
      const { cartId, session } = await cartWithQrisSession(api, shop)
      const { id, invoice } = session.data

      await sandboxExpire(proxy, invoice)
      await waitFor("the proxy to record the code expired", async () => (await merchantRead(proxy, id)).status === "expired")
      await waitFor(
        "Medusa to hear payment.expired as canceled",
        async () => log().find((line) => line.includes(`payment.expired for ${id}`) && line.endsWith(": canceled")),
        WEBHOOK_WAIT
      )
      // The storefront tries to complete: Medusa asks the provider, which says canceled.
      const attempt = await api.post(`/store/carts/${cartId}/complete`, {}, { ...shop.store, validateStatus: () => true })
      expect(attempt.status).toBe(400)
      expect(attempt.data).toMatchObject({
        type: "not_allowed",
        message: `Session: ${session.id} was not authorized with the provider.`,
      })
      const canceled = await getContainer().resolve("payment").retrievePaymentSession(session.id)
      expect(canceled.status).toBe("canceled")

      // The customer pays from a saved QR image after it expired.
      await sandboxPay(proxy, invoice)
      await waitFor("the proxy to record the late payment", async () => {
        const now = await merchantRead(proxy, id)
        return now.status === "paid" && now.late
      })
      await waitFor("the late payment to complete the cart", async () => (await storeCart(api, shop, cartId)).completed_at, WEBHOOK_WAIT)
      const order = await onlyOrder(api, shop)
      const [captured] = order.payment_collections[0].payments
      expect(captured.captured_at).toBeTruthy()
      expect(captured.amount).toBe(PRICE)
      expect(captured.data).toMatchObject({ id, status: "paid", late: true })
      expect(log()).toContainEqual(expect.stringMatching(new RegExp(`late payment: ${id} \\(session ${session.id}`)))
    })
  },
})
