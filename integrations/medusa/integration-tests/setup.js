// Runs before each integration spec file is loaded: points Medusa's test runner at the test
// PostgreSQL (scripts/postgres.sh, whose URL `make test-medusa` exports) and clears the ORM's
// metadata as Medusa's starter does. Without the URL the spec fails and says how to get one.
const { MetadataStorage } = require("@medusajs/framework/mikro-orm/core")

MetadataStorage.clear()

const url = process.env.PAYDIGITAL_TEST_POSTGRES
if (!url) {
  throw new Error(
    "PAYDIGITAL_TEST_POSTGRES is not set: run `make test-medusa`, or by hand " +
      '`eval "$(scripts/postgres.sh start)"` from the repository root first'
  )
}
const server = new URL(url)
// The host must be the word `localhost`: for any other host Medusa's test runner turns on
// TLS to PostgreSQL with options under which the connection hangs (DEVELOPERS.md).
process.env.DB_HOST = "localhost"
process.env.DB_PORT = server.port
process.env.DB_USERNAME = decodeURIComponent(server.username)
process.env.DB_PASSWORD = decodeURIComponent(server.password)
process.env.MEDUSA_DISABLE_TELEMETRY = "true"
