// A shop in the Medusa under test, made through its own HTTP API as a merchant would: an
// admin (user and emailpass identity made with Medusa's modules, as `medusa user` does, then
// a real sign-in), a publishable key on the default sales channel, an IDR region that offers
// PayDigital QRIS, and one product; then a customer's cart with a QRIS payment session.
import { Modules } from "@medusajs/framework/utils"

export const PROVIDER_ID = "pp_paydigital-qris_paydigital"
export const WEBHOOK_PATH = "/hooks/payment/paydigital-qris_paydigital"
export const PRICE = 125000

type Api = any
type Container = any

export interface Shop {
  admin: { headers: Record<string, string> }
  store: { headers: Record<string, string> }
  regionId: string
  variantId: string
}

export async function setUpShop(api: Api, container: Container): Promise<Shop> {
  const email = "owner@toko.example"
  const password = "a long enough password"
  const user = await container.resolve(Modules.USER).createUsers({ email })
  const auth = container.resolve(Modules.AUTH)
  const { authIdentity, error } = await auth.register("emailpass", { body: { email, password } })
  if (!authIdentity) throw new Error(`cannot register the admin: ${error}`)
  await auth.updateAuthIdentities({ id: authIdentity.id, app_metadata: { user_id: user.id } })
  const { token } = (await api.post("/auth/user/emailpass", { email, password })).data
  const admin = { headers: { authorization: `Bearer ${token}` } }

  const { sales_channels } = (await api.get("/admin/sales-channels", admin)).data
  const salesChannel = sales_channels[0]
  const { api_key } = (await api.post("/admin/api-keys", { title: "Storefront", type: "publishable" }, admin)).data
  await api.post(`/admin/api-keys/${api_key.id}/sales-channels`, { add: [salesChannel.id] }, admin)
  const store = { headers: { "x-publishable-api-key": api_key.token } }

  const { region } = (
    await api.post(
      "/admin/regions",
      { name: "Indonesia", currency_code: "idr", countries: ["id"], payment_providers: [PROVIDER_ID] },
      admin
    )
  ).data
  // Not a physical good (no inventory, no shipping): the cart completes without shipping setup.
  const { product } = (
    await api.post(
      "/admin/products",
      {
        title: "Kopi Senja 250 g",
        status: "published",
        options: [{ title: "Ukuran", values: ["250 g"] }],
        variants: [
          {
            title: "250 g",
            manage_inventory: false,
            options: { Ukuran: "250 g" },
            prices: [{ currency_code: "idr", amount: PRICE }],
          },
        ],
        sales_channels: [{ id: salesChannel.id }],
      },
      admin
    )
  ).data
  return { admin, store, regionId: region.id, variantId: product.variants[0].id }
}

/** A customer's cart with the product, and a PayDigital QRIS payment session for it. */
export async function cartWithQrisSession(api: Api, shop: Shop) {
  const { cart } = (
    await api.post("/store/carts", { region_id: shop.regionId, email: "budi@example.com" }, shop.store)
  ).data
  await api.post(`/store/carts/${cart.id}/line-items`, { variant_id: shop.variantId, quantity: 1 }, shop.store)
  const { payment_collection } = (await api.post("/store/payment-collections", { cart_id: cart.id }, shop.store)).data
  const withSession = (
    await api.post(
      `/store/payment-collections/${payment_collection.id}/payment-sessions`,
      { provider_id: PROVIDER_ID },
      shop.store
    )
  ).data.payment_collection
  const session = withSession.payment_sessions.find((s: any) => s.provider_id === PROVIDER_ID)
  return { cartId: cart.id as string, collectionId: payment_collection.id as string, session }
}

/** The cart as the storefront sees it. */
export async function storeCart(api: Api, shop: Shop, cartId: string) {
  return (await api.get(`/store/carts/${cartId}`, shop.store)).data.cart
}

/** The one order of the shop, with its payments and their captures and refunds. */
export async function onlyOrder(api: Api, shop: Shop) {
  const fields = [
    "id",
    "total",
    "currency_code",
    "*payment_collections",
    "*payment_collections.payments",
    "*payment_collections.payments.captures",
    "*payment_collections.payments.refunds",
  ].join(",")
  const { orders } = (await api.get(`/admin/orders?fields=${encodeURIComponent(fields)}`, shop.admin)).data
  if (orders.length !== 1) throw new Error(`expected one order, found ${orders.length}`)
  return orders[0]
}
