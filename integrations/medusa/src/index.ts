// The module provider Medusa loads from the payment module's `providers` in medusa-config.ts
// (`resolve: "@paydigital/medusa-payment-qris"`): provider id `pp_paydigital-qris_{id}`.

import { ModuleProvider, Modules } from "@medusajs/framework/utils"
import PayDigitalQrisProvider from "./service"

export default ModuleProvider(Modules.PAYMENT, {
  services: [PayDigitalQrisProvider],
})
