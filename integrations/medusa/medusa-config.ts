// The Medusa app the integration spec boots (Medusa's test runner reads medusa-config.ts
// from the working folder): the payment module with this package's built provider, pointed
// at the sandbox proxy the spec starts (its URL and secrets come from the environment the
// spec sets). A shop's own medusa-config.ts needs only the `modules` part (README.md).
import path from "node:path"
import { defineConfig } from "@medusajs/framework/utils"

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    http: {
      storeCors: "http://localhost:8000",
      adminCors: "http://localhost:9000",
      authCors: "http://localhost:9000",
      jwtSecret: "integration-test-jwt-secret",
      cookieSecret: "integration-test-cookie-secret",
    },
  },
  admin: { disable: true },
  modules: [
    {
      resolve: "@medusajs/medusa/payment",
      options: {
        providers: [
          {
            // What a shop writes as "@paydigital/medusa-payment-qris": the built package.
            resolve: path.join(__dirname, "dist"),
            id: "paydigital",
            options: {
              proxyUrl: process.env.PAYDIGITAL_PROXY_URL,
              merchantKey: process.env.CHECKOUT_MERCHANT_KEY,
              webhookSecret: process.env.CHECKOUT_WEBHOOK_SECRET,
              allowSandbox: true,
            },
          },
        ],
      },
    },
  ],
})
