// A shop's server as a client generator sees the proxy: the types come from the OpenAPI
// document the running proxy serves (openapi-typescript, run.sh writes generated/api.d.ts),
// every call goes through openapi-fetch, and tsc --strict must accept it before node runs it.
// If the document typed a parameter or a body loosely again (`limit` as a string, a link with
// `amount` and `min_amount`), a `@ts-expect-error` below would stop erring and tsc would fail.
import createClient from "openapi-fetch";
import type { paths } from "./generated/api.js";

// Node's globals without @types/node (one dependency less): only what is read here.
declare const process: {
  env: Record<string, string | undefined>;
  exitCode: number | undefined;
};

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`typed-client: set ${name}`);
  return value;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`typed-client: ${what}`);
}

const client = createClient<paths>({
  baseUrl: need("PAYDIGITAL_URL"),
  headers: { Authorization: `Bearer ${need("PAYDIGITAL_MERCHANT_KEY")}` },
});

async function main(): Promise<void> {
  const startedAt = Math.floor(Date.now() / 1000) - 60;
  const reference = `typed-client-${Date.now()}`;

  // Create.
  const created = await client.POST("/api/merchant/payments", {
    params: { header: { "Idempotency-Key": reference } },
    body: { amount: 25000, description: "Kopi susu", reference },
  });
  check(created.response.status === 201, `create answered ${created.response.status}`);
  if (!created.data) throw new Error(`typed-client: create: ${JSON.stringify(created.error)}`);
  const id: string = created.data.id;
  check(id.startsWith("pay_"), `create: id ${id}`);
  const total: number = created.data.total_amount;
  check(total >= 25000, `create: total_amount ${total}`);

  // Read.
  const read = await client.GET("/api/merchant/payments/{id}", { params: { path: { id } } });
  if (!read.data) throw new Error(`typed-client: read: ${JSON.stringify(read.error)}`);
  check(read.data.id === id && read.data.amount === 25000, "read: another payment");
  const status: "pending" | "paid" | "expired" = read.data.status;
  check(status === "pending", `read: status ${status}`);

  // List: `limit` a number, `status` one of the enum's words, `created_after` unix seconds.
  const listed = await client.GET("/api/merchant/payments", {
    params: { query: { limit: 10, status: "pending", reference, created_after: startedAt } },
  });
  if (!listed.data) throw new Error(`typed-client: list: ${JSON.stringify(listed.error)}`);
  check(
    listed.data.data.some((p) => p.id === id),
    `list: ${id} not in ${JSON.stringify(listed.data.data.map((p) => p.id))}`,
  );
  const byDate = await client.GET("/api/merchant/payments", {
    params: { query: { limit: 1, created_after: "2000-01-01T00:00:00Z" } },
  });
  check(byDate.response.status === 200, `list by a date-time: ${byDate.response.status}`);
  // The typing is the point: a generated client must not take the page size as text.
  const asText = await client.GET("/api/merchant/events", {
    // @ts-expect-error `limit` is an integer in the document, not a string.
    params: { query: { limit: "10" } },
  });
  check(asText.response.status === 200, "a limit written as text still reads");
  const badStatus = await client.GET("/api/merchant/payments", {
    // @ts-expect-error `status` is pending, paid or expired.
    params: { query: { status: "lunas" } },
  });
  check(badStatus.response.status === 400, `status=lunas answered ${badStatus.response.status}`);

  // Events: this payment's payment.created, page by page (oldest first).
  let after: string | undefined;
  let found = false;
  for (let page = 0; page < 1000 && !found; page++) {
    const events = await client.GET("/api/merchant/events", {
      params: { query: after === undefined ? { limit: 100 } : { limit: 100, after } },
    });
    if (!events.data) throw new Error(`typed-client: events: ${JSON.stringify(events.error)}`);
    found = events.data.data.some((e) => e.payment_id === id && e.type === "payment.created");
    const next: string | null = events.data.next_cursor;
    if (next === null) break;
    after = next;
  }
  check(found, `events: no payment.created for ${id}`);

  // Payment links: a fixed price or an open amount, never both; `active` a boolean.
  const link = await client.POST("/api/merchant/payment-links", {
    body: { title: "Kopi susu 1 liter", amount: 25000 },
  });
  check(link.response.status === 201, `link create answered ${link.response.status}`);
  const open = await client.POST("/api/merchant/payment-links", {
    body: { title: "Donasi", min_amount: 10000, max_amount: 500000 },
  });
  check(open.response.status === 201, `open link create answered ${open.response.status}`);
  const both = await client.POST("/api/merchant/payment-links", {
    // @ts-expect-error a fixed price and a bound together fit neither kind of link.
    body: { title: "Kopi", amount: 25000, min_amount: 10000 },
  });
  check(both.response.status === 400, `amount with min_amount answered ${both.response.status}`);
  const links = await client.GET("/api/merchant/payment-links", {
    params: { query: { active: true, limit: 10 } },
  });
  if (!links.data) throw new Error(`typed-client: links: ${JSON.stringify(links.error)}`);
  const linkId = link.data?.id;
  check(
    links.data.data.some((l) => l.id === linkId),
    `links: ${linkId} not among the active ones`,
  );

  console.log(`typed-client: create, read, list, events and links through the generated client (${id})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
