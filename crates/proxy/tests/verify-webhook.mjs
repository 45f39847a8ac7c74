// Verifies one webhook with the official `standardwebhooks` npm package (not our code):
// reads {secret, headers, body} as JSON on stdin, prints the verified payload's type.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const shop = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../examples/shop/");
const { Webhook } = createRequire(path.join(shop, "package.json"))("standardwebhooks");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { secret, headers, body } = JSON.parse(input);
const payload = new Webhook(secret).verify(body, headers); // throws when the signature is wrong
console.log(payload.type);
