// Node: receive the proxy's webhooks, verified with the official standardwebhooks package
// (npm install standardwebhooks). Point CHECKOUT_WEBHOOK_URL at /webhooks/paydigital.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const webhook = new Webhook(process.env.CHECKOUT_WEBHOOK_SECRET); // whsec_...
const handled = new Set(); // webhook-ids seen: keep them in your database

http.createServer(async (request, response) => {
  if (request.method !== "POST" || request.url !== "/webhooks/paydigital") {
    response.writeHead(404).end();
    return;
  }
  let body = "";
  for await (const chunk of request) body += chunk;
  let event;
  try {
    event = webhook.verify(body, request.headers); // signature and timestamp
  } catch {
    response.writeHead(400).end();
    return;
  }
  const id = request.headers["webhook-id"];
  if (!handled.has(id)) {
    handled.add(id);
    const payment = event.data;
    if (event.type === "payment.paid") {
      // Ship only real money your server priced: a "browser" payment's amount was chosen by
      // a browser, a sandbox's (livemode false) moved nothing, and one marked for review had
      // an answer from PayDigital that did not fit. Compare total_amount with your order's.
      if (!event.livemode || payment.source !== "merchant" || payment.review) {
        console.log(`not shipping ${payment.id}: source=${payment.source} livemode=${event.livemode} review=${payment.review}`);
      } else {
        // Mark the order paid (payment.late: it came after the code expired).
        console.log(`paid ${payment.reference} ${payment.total_amount} late=${payment.late}`);
      }
    }
  }
  response.writeHead(204).end(); // answer fast; do slow work after
}).listen(Number(process.env.PORT || 3000), "127.0.0.1");
