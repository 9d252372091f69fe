/** A small catalog so a first `npm run dev` has something to order. Created through the HTTP API. */
export const DEMO_PRODUCTS = [
  { sku: 'KB-MECH-01', name: 'Mechanical keyboard', priceCents: 8900, stock: 25, lowStockThreshold: 5 },
  { sku: 'MS-ERGO-01', name: 'Ergonomic mouse', priceCents: 4900, stock: 40, lowStockThreshold: 8 },
  { sku: 'MN-27-4K', name: '27" 4K monitor', priceCents: 32900, stock: 10, lowStockThreshold: 3 },
  { sku: 'HS-WL-02', name: 'Wireless headset', priceCents: 12900, stock: 15, lowStockThreshold: 4 },
  { sku: 'CB-USBC-2M', name: 'USB-C cable, 2 m', priceCents: 1500, stock: 200, lowStockThreshold: 20 },
];

/** Seeds the demo catalog when the inventory is empty, as an operator (`token`: an operator's access token). */
export async function seedDemoCatalog(httpUrl: string, token: string, log: (line: string) => void): Promise<void> {
  const existing = (await (await fetch(`${httpUrl}/products?limit=1`)).json()) as { items: unknown[] };
  if (existing.items.length > 0) return;
  for (const product of DEMO_PRODUCTS) {
    const res = await fetch(`${httpUrl}/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(product),
    });
    if (res.status !== 201 && res.status !== 409) throw new Error(`seeding ${product.sku} failed: ${res.status} ${await res.text()}`);
  }
  log(`seeded the demo catalog (${DEMO_PRODUCTS.length} products)`);
}
