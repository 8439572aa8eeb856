#!/usr/bin/env node
// Deterministic traffic generator for api-server.js. The request plan comes from a seeded PRNG,
// so every run sends the same requests (timing, ports and server-side timestamps still differ).
// Usage: node api-client.js [port]   Prints one JSON summary line at the end.
'use strict';
const http = require('http');
const zlib = require('zlib');

const PORT = Number(process.argv[2] || 8080);
const HOST = '127.0.0.1';
// One shared keep-alive pool of 4 sockets, like a typical API gateway or backend client.
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function mulberry32(seed) {                        // tiny seeded PRNG; Math.random is never used
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20240611);
const pick = (a) => a[Math.floor(rnd() * a.length)];
const chance = (p) => rnd() < p;

const stats = { requests: 0, responses: 0, connections_one_shot: 0, status: {}, encodings: {} };
const UAS = ['shop-web/2.3.1', 'shop-ios/5.0.2 (iPhone; iOS 17.4)', 'shop-android/5.0.1 (Pixel 8)', 'inventory-sync/0.9 node'];
let token = null;

// req(): one HTTP request. opts.form -> x-www-form-urlencoded body, opts.raw -> body sent verbatim,
// opts.chunks -> body written in pieces without Content-Length (chunked request), opts.oneShot -> own connection.
function req(method, path, opts = {}) {
  const headers = { 'User-Agent': opts.ua || UAS[0], Accept: 'application/json' };
  if (opts.auth !== false && (opts.token || token)) headers.Authorization = `Bearer ${opts.token || token}`;
  if (opts.gzip) headers['Accept-Encoding'] = 'gzip, deflate';
  let body = null;
  if (opts.form) { body = new URLSearchParams(opts.form).toString(); headers['Content-Type'] = 'application/x-www-form-urlencoded'; }
  else if (opts.raw !== undefined) { body = opts.raw; headers['Content-Type'] = 'application/json'; }
  else if (opts.json !== undefined) { body = JSON.stringify(opts.json); headers['Content-Type'] = 'application/json'; }
  else if (opts.chunks) headers['Content-Type'] = 'application/json';
  if (body !== null) headers['Content-Length'] = Buffer.byteLength(body);
  if (opts.oneShot) { headers.Connection = 'close'; stats.connections_one_shot++; }
  stats.requests++;
  return new Promise((resolve, reject) => {
    const r = http.request({ host: HOST, port: PORT, method, path, headers, agent: opts.oneShot ? false : agent }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        stats.responses++;
        stats.status[res.statusCode] = (stats.status[res.statusCode] || 0) + 1;
        const enc = `${res.headers['content-encoding'] || 'identity'}/${res.headers['transfer-encoding'] || 'length'}`;
        stats.encodings[enc] = (stats.encodings[enc] || 0) + 1;
        let buf = Buffer.concat(parts);
        if (res.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
        let data = null;
        try { data = buf.length ? JSON.parse(buf) : null; } catch { data = buf.toString(); }
        resolve({ status: res.statusCode, headers: res.headers, data });
      });
    });
    r.on('error', reject);
    if (opts.chunks) { opts.chunks.forEach((c) => r.write(c)); r.end(); } else r.end(body);
  });
}

const CATS = ['books', 'electronics', 'garden', 'toys'];
const slug = () => { const n = Math.floor(rnd() * 48); return `${CATS[n % 4]}-item-${String(n + 1).padStart(3, '0')}`; }; // server's slug scheme
const userId = () => 1 + Math.floor(rnd() * 20);

async function main() {
  // Phase A, sequential: a load-balancer probe, logins (JSON, form, failures), creations whose ids are reused later.
  await req('GET', '/health', { oneShot: true, ua: 'kube-probe/1.29' });
  const login = await req('POST', '/api/v1/auth/login', { json: { username: 'alice', password: 'correct horse battery staple' } });
  token = login.data.access_token;
  const bob = await req('POST', '/api/v1/auth/login', { form: { username: 'bob', password: 'hunter2', remember_me: 'true' }, ua: UAS[1] });
  await req('POST', '/api/v1/auth/login', { json: { username: 'carol', password: 'wrong-password' } });
  await req('POST', '/api/v1/auth/login', { json: { username: 'dave' } });
  await req('POST', '/api/v1/auth/login', { raw: '{"username": "erin", "password": ' });              // truncated JSON -> 400
  await req('GET', '/api/v1/users/me', { gzip: true });
  await req('GET', '/api/v1/users/me', { token: bob.data.access_token, ua: UAS[1] });
  const u1 = await req('POST', '/api/v1/users', { json: { name: 'Quentin Example', email: 'quentin.example@example.com', phone: '+1-555-0142', address: { street: '42 Example Road', city: 'Springfield', zip: '01042', country: 'US' }, marketing: { email: true, sms: false } } });
  const u2 = await req('POST', '/api/v1/users', { form: { name: 'Uma Sample', email: 'uma.sample@example.com', phone: '+1-555-0177' } });
  await req('POST', '/api/v1/users', { raw: "{'name': 'single quotes are not JSON'}" });                   // -> 400
  await req('POST', '/api/v1/users', { json: { name: 'No Email' } });                                      // -> 422
  const order = await req('POST', '/api/v1/users/3/orders', { json: { items: [{ slug: 'books-item-001', qty: 2 }, { slug: 'toys-item-004', qty: 1 }], coupon: 'DEMO10' } });
  const known = (await req('GET', '/api/v1/users/2/orders', { gzip: true })).data.data.map((o) => o.id);
  const newIds = [u1.data.id, u2.data.id];
  await req('PUT', `/api/v1/users/${u1.data.id}`, { json: { name: 'Quentin Example-Smith', email: 'q.example-smith@example.com', phone: '+1-555-0143', address: { street: '7 Example Court', city: 'Springfield', zip: '01007', country: 'US' } } });
  await req('PUT', `/api/v1/users/${u2.data.id}`, { json: { phone: '+1-555-0178' } });                  // partial PUT -> 422

  // Phase B, 4 requests in flight at a time over the pooled sockets: a seeded mix of everything.
  const gens = [
    [14, () => req('GET', `/api/v1/products?category=${pick(CATS)}&page=${1 + Math.floor(rnd() * 3)}&limit=${pick([5, 10, 20])}`, { auth: false, gzip: chance(0.5), ua: pick(UAS) })],
    [4, () => req('GET', `/api/v1/products?page=${1 + Math.floor(rnd() * 4)}`, { auth: false, gzip: chance(0.5) })],
    [12, () => req('GET', `/api/v1/products/${chance(0.85) ? slug() : 'discontinued-widget-9000'}`, { auth: false, gzip: chance(0.4), ua: pick(UAS) })],
    [8, () => req('GET', `/api/v1/users?page=${1 + Math.floor(rnd() * 2)}&limit=${pick([5, 10])}`, { gzip: chance(0.6) })],
    [12, () => req('GET', `/api/v1/users/${chance(0.85) ? userId() : 900 + Math.floor(rnd() * 99)}`, { gzip: chance(0.3), ua: pick(UAS) })],
    [10, () => req('GET', `/api/v1/users/${chance(0.12) ? 13 : userId() % 12 + 1}/orders${chance(0.3) ? '?status=pending' : ''}`, { gzip: chance(0.5) })],
    [8, () => req('GET', `/api/v1/orders/${chance(0.8) ? pick(known) : '00000000-0000-4000-a000-000000000000'}`, { gzip: chance(0.3) })],
    [4, () => req('PATCH', `/api/v1/orders/${pick(known)}`, { json: { status: pick(['paid', 'shipped', 'delivered']), notes: 'leave at the door' } })],
    [5, () => req('PATCH', `/api/v1/users/${userId()}`, { json: { phone: `+1-555-01${String(Math.floor(rnd() * 100)).padStart(2, '0')}`, tags: ['newsletter', pick(['vip', 'beta', 'wholesale'])] } })],
    [4, () => { const id = userId(); return req('PUT', `/api/v1/users/${id}`, { json: { name: `Renamed User ${id}`, email: `renamed.${id}@example.com`, address: { street: `${id} Example Lane`, city: 'Shelbyville', zip: '02000', country: 'US' } } }); }],
    [3, () => req('PATCH', `/api/v1/products/${slug()}`, chance(0.5) ? { json: { stock: Math.floor(rnd() * 50) } } : { form: { stock: String(Math.floor(rnd() * 50)), note: 'restock & recount' } })],
    [3, () => req('POST', `/api/v1/users/${userId() % 12 + 1}/orders`, { json: { items: [{ slug: slug(), qty: 1 + Math.floor(rnd() * 3) }], gift: { wrap: true, message: 'Happy birthday!' } } })],
    [4, () => req('GET', '/api/v1/users/me', { gzip: chance(0.5), ua: pick(UAS) })],
    [5, () => req('GET', `/api/v1/users/${userId()}`, { auth: false })],                                 // no token -> 401
    [2, () => req('GET', '/api/v1/users', { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged-signature' })], // bad token -> 401
    [2, () => req('POST', `/api/v1/orders/${pick(known)}`, { json: {} })],                             // -> 405
    [2, () => req('GET', pick(['/api/v2/users', '/api/v1/carts/7', '/favicon.ico']), { auth: false })], // -> 404
    [2, () => req('PATCH', `/api/v1/users/${userId()}`, { raw: '{"phone": "+1-555-0100",}' })],          // trailing comma -> 400
    [3, () => req('POST', '/api/v1/auth/login', { form: { username: pick(['frank', 'grace', 'heidi']), password: 'pa$$w0rd!' }, ua: UAS[2] })],
    [2, () => req('GET', '/health', { auth: false, ua: 'kube-probe/1.29' })],
  ];
  const bag = gens.flatMap(([w, g]) => Array(w).fill(g));
  const PLANNED = 176;
  for (let i = 0; i < PLANNED; i += 4) {
    // Build the batch first (PRNG draws in a fixed order), then send it concurrently.
    const batch = [];
    for (let j = i; j < Math.min(i + 4, PLANNED); j++) batch.push(pick(bag));
    await Promise.all(batch.map((g) => g()));
    if (i === 88) await req('GET', '/health', { oneShot: true, ua: 'kube-probe/1.29' });
  }

  // Phase C, sequential: clean-up deletes (204), reads of deleted things (404), a chunked upload.
  await req('POST', '/api/v1/products', { json: { slug: 'garden-hose-deluxe', name: 'Deluxe Garden Hose', category: 'garden', price: { amount: 2999, currency: 'USD' }, stock: 12 } });
  await req('PUT', '/api/v1/products/garden-hose-deluxe', { chunks: ['{"name":"Deluxe Garden Hose 30m",', '"price":{"amount":3499,"currency":"USD"},', '"stock":8,"description":"Kink-free, 30 metres."}'] });
  await req('DELETE', '/api/v1/products/garden-hose-deluxe');
  for (const id of newIds) await req('DELETE', `/api/v1/users/${id}`);
  await req('GET', `/api/v1/users/${newIds[0]}`);
  await req('DELETE', `/api/v1/orders/${order.data.id}`);
  await req('GET', `/api/v1/orders/${order.data.id}`);
  await req('DELETE', '/api/v1/users/999');
  await req('GET', '/health', { oneShot: true, ua: 'kube-probe/1.29' });

  agent.destroy();                                 // close pooled sockets so the capture has clean FINs
  console.log(JSON.stringify(stats));
}
main().catch((e) => { console.error(e); process.exit(1); });
