#!/usr/bin/env node
// Small fake shop/user REST API used only to generate captures/rest-api.pcap.
// No npm dependencies; listens on 127.0.0.1 only. Usage: node api-server.js [port]
'use strict';
const http = require('http');
const zlib = require('zlib');
const crypto = require('crypto');

const PORT = Number(process.argv[2] || 8080);
const SECRET = 'capture-demo-secret';            // signs the fake JWTs; not a real secret

// ---- in-memory data: obviously fake people (example.com, 555-01xx numbers) ----
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Zoe'];
const LAST = ['Example', 'Testington', 'Sample', 'Placeholder', 'Demo'];
const users = new Map();
for (let id = 1; id <= 20; id++) {
  const first = FIRST[id - 1], last = LAST[id % LAST.length];
  users.set(id, {
    id, username: first.toLowerCase(), name: `${first} ${last}`,
    email: `${first.toLowerCase()}.${last.toLowerCase()}@example.com`,
    phone: `+1-555-01${String(id).padStart(2, '0')}`,
    role: id === 1 ? 'admin' : 'customer',
    address: { street: `${100 + id} Example Street`, city: 'Springfield', zip: `0${1000 + id}`, country: 'US' },
    tags: id % 3 ? ['newsletter'] : ['newsletter', 'vip'],
    created_at: new Date(Date.UTC(2023, id % 12, id)).toISOString(),
  });
}
const CATEGORIES = ['books', 'electronics', 'garden', 'toys'];
const products = new Map();
for (let i = 0; i < 48; i++) {
  const category = CATEGORIES[i % 4];
  const slug = `${category}-item-${String(i + 1).padStart(3, '0')}`;
  products.set(slug, {
    slug, name: `Sample ${category} item #${i + 1}`, category,
    price: { amount: 499 + i * 137, currency: 'USD' },
    stock: (i * 7) % 23, rating: Number((3 + (i % 20) / 10).toFixed(1)),
    images: [`https://cdn.example.com/p/${slug}/1.jpg`, `https://cdn.example.com/p/${slug}/2.jpg`],
    description: `A perfectly ordinary ${category} product used for demo traffic. `.repeat(2).trim(),
  });
}
const orders = new Map();                          // uuid -> order
function newUuid(n) {                              // deterministic uuid-v4-looking ids
  const h = crypto.createHash('sha1').update('order' + n).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
function addOrder(userId, items) {
  const id = newUuid(orders.size + 1);
  const lines = items.map(({ slug, qty }) => ({ slug, qty, unit_price: (products.get(slug) || { price: { amount: 999 } }).price.amount }));
  const order = {
    id, user_id: userId, status: 'pending', items: lines,
    total: { amount: lines.reduce((s, l) => s + l.qty * l.unit_price, 0), currency: 'USD' },
    shipping: { ...users.get(userId).address, recipient: users.get(userId).name },
    payment: { method: 'card', card: '**** **** **** 4242' },
    created_at: new Date(Date.UTC(2024, 0, 1) + orders.size * 3600e3).toISOString(),
  };
  orders.set(id, order);
  return order;
}
const slugs = [...products.keys()];
for (let n = 0; n < 30; n++) addOrder(1 + (n % 10), [{ slug: slugs[n % 48], qty: 1 + (n % 3) }, { slug: slugs[(n * 5) % 48], qty: 1 }]);

// ---- helpers ----
const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function signToken(user) {
  const head = b64url({ alg: 'HS256', typ: 'JWT' });
  const body = b64url({ sub: String(user.id), name: user.name, role: user.role, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 });
  return `${head}.${body}.${crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url')}`;
}
function verifyToken(req) {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
  if (!m) return null;
  const [head, body, sig] = m[1].split('.');
  if (!sig || crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url') !== sig) return null;
  try { return users.get(Number(JSON.parse(Buffer.from(body, 'base64url')).sub)) || null; } catch { return null; }
}
const wantsGzip = (req) => /\bgzip\b/.test(req.headers['accept-encoding'] || '');

// send(): Content-Length response, gzip-compressed when the client accepts it and the body is worth it.
function send(req, res, status, obj, headers = {}) {
  if (status === 204) { res.writeHead(204, headers); return res.end(); }
  let buf = Buffer.from(JSON.stringify(obj));
  const h = { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': req.id, ...headers };
  if (wantsGzip(req) && buf.length > 300) { buf = zlib.gzipSync(buf); h['Content-Encoding'] = 'gzip'; h.Vary = 'Accept-Encoding'; }
  h['Content-Length'] = buf.length;
  res.writeHead(status, h);
  res.end(buf);
}
// stream(): no Content-Length, JSON array written item by item -> Transfer-Encoding: chunked
// (gzip stream on top when accepted, so chunked+gzip shows up as well).
function stream(req, res, meta, items) {
  const h = { 'Content-Type': 'application/json; charset=utf-8', 'X-Request-Id': req.id };
  let out = res;
  if (wantsGzip(req)) { h['Content-Encoding'] = 'gzip'; h.Vary = 'Accept-Encoding'; out = zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH }); out.pipe(res); }
  res.writeHead(200, h);
  out.write(`{"meta":${JSON.stringify(meta)},"data":[`);
  items.forEach((it, i) => out.write((i ? ',' : '') + JSON.stringify(it)));
  out.end(']}');
}
const err = (req, res, status, code, message, extra = {}, headers = {}) => send(req, res, status, { error: { code, message, request_id: req.id, ...extra } }, headers);
function page(q, total) {
  const limit = Math.min(Math.max(Number(q.get('limit')) || 10, 1), 50), pg = Math.max(Number(q.get('page')) || 1, 1);
  return { limit, page: pg, offset: (pg - 1) * limit, total };
}
function parseBody(req, raw) {                     // JSON or form-urlencoded; throws on bad JSON
  if (!raw.length) return {};
  const ct = req.headers['content-type'] || '';
  if (ct.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw.toString()));
  return JSON.parse(raw.toString());
}

// ---- routes: [method, pattern, needsAuth, handler(req, res, ctx)] ----
const routes = [
  ['GET', /^\/health$/, false, (req, res) => send(req, res, 200, { status: 'ok', version: '1.4.2', uptime_s: Math.round(process.uptime()), checks: { db: 'ok', cache: 'ok' } })],
  ['POST', /^\/api\/v1\/auth\/login$/, false, (req, res, { body }) => {
    if (!body.username || !body.password) return err(req, res, 400, 'missing_fields', 'username and password are required');
    const u = [...users.values()].find((x) => x.username === body.username);
    if (!u || body.password === 'wrong-password') return err(req, res, 401, 'invalid_credentials', 'bad username or password');
    send(req, res, 200, { access_token: signToken(u), token_type: 'Bearer', expires_in: 3600, user: { id: u.id, name: u.name, email: u.email, role: u.role } });
  }],
  ['GET', /^\/api\/v1\/users\/me$/, true, (req, res, { user }) => send(req, res, 200, user)],
  ['GET', /^\/api\/v1\/users$/, true, (req, res, { q }) => {
    const all = [...users.values()], p = page(q, all.length);
    send(req, res, 200, { meta: p, data: all.slice(p.offset, p.offset + p.limit) });
  }],
  ['POST', /^\/api\/v1\/users$/, true, (req, res, { body }) => {
    if (!body.email || !body.name) return err(req, res, 422, 'validation_failed', 'invalid fields', { fields: { email: body.email ? undefined : 'required', name: body.name ? undefined : 'required' } });
    const id = Math.max(...users.keys()) + 1;
    const u = { id, username: body.name.split(' ')[0].toLowerCase(), name: body.name, email: body.email, phone: body.phone || null, role: 'customer', address: body.address || null, tags: [], created_at: new Date().toISOString() };
    users.set(id, u);
    send(req, res, 201, u, { Location: `/api/v1/users/${id}` });
  }],
  ['GET', /^\/api\/v1\/users\/(\d+)\/orders$/, true, (req, res, { m, q }) => {
    const id = Number(m[1]);
    // Simulated bug: one legacy account makes the order service blow up (the one 500 in the capture).
    if (id === 13) return send(req, res, 500, { error: 'Internal Server Error', request_id: req.id, trace: "TypeError: Cannot read properties of undefined (reading 'items')\n    at mapOrder (/srv/shop/src/orders/mapper.js:42:27)\n    at Array.map (<anonymous>)\n    at listUserOrders (/srv/shop/src/orders/service.js:88:19)\n    at async Router.handle (/srv/shop/src/http/router.js:131:7)" });
    if (!users.has(id)) return err(req, res, 404, 'not_found', `user ${id} not found`);
    const list = [...orders.values()].filter((o) => o.user_id === id && (!q.get('status') || o.status === q.get('status')));
    stream(req, res, { user_id: id, total: list.length }, list);
  }],
  ['POST', /^\/api\/v1\/users\/(\d+)\/orders$/, true, (req, res, { m, body }) => {
    const id = Number(m[1]);
    if (!users.has(id)) return err(req, res, 404, 'not_found', `user ${id} not found`);
    if (!Array.isArray(body.items) || !body.items.length) return err(req, res, 422, 'validation_failed', 'items must be a non-empty array');
    const o = addOrder(id, body.items);
    send(req, res, 201, o, { Location: `/api/v1/orders/${o.id}` });
  }],
  [/^(GET|PUT|PATCH|DELETE)$/, /^\/api\/v1\/users\/(\d+)$/, true, (req, res, { m, body }) => {
    const u = users.get(Number(m[1]));
    if (!u) return err(req, res, 404, 'not_found', `user ${m[1]} not found`);
    if (req.method === 'DELETE') { users.delete(u.id); return send(req, res, 204); }
    if (req.method === 'PUT' && (!body.name || !body.email)) return err(req, res, 422, 'validation_failed', 'PUT needs the full resource (name, email)');
    if (req.method !== 'GET') Object.assign(u, body, { id: u.id, updated_at: new Date().toISOString() });
    send(req, res, 200, u);
  }],
  [/^(GET|PATCH|DELETE)$/, /^\/api\/v1\/orders\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/, true, (req, res, { m, body }) => {
    const o = orders.get(m[1]);
    if (!o) return err(req, res, 404, 'not_found', `order ${m[1]} not found`);
    if (req.method === 'DELETE') { orders.delete(o.id); return send(req, res, 204); }
    if (req.method === 'PATCH') Object.assign(o, { status: body.status || o.status, notes: body.notes, updated_at: new Date().toISOString() });
    send(req, res, 200, o);
  }],
  ['GET', /^\/api\/v1\/products$/, false, (req, res, { q }) => {   // public catalogue, streamed
    const cat = q.get('category');
    const all = [...products.values()].filter((p) => !cat || p.category === cat), p = page(q, all.length);
    stream(req, res, { ...p, category: cat || null }, all.slice(p.offset, p.offset + p.limit));
  }],
  ['POST', /^\/api\/v1\/products$/, true, (req, res, { body }) => {
    if (!body.slug || !body.name) return err(req, res, 422, 'validation_failed', 'slug and name are required');
    const p = { slug: body.slug, name: body.name, category: body.category || 'misc', price: body.price || { amount: 0, currency: 'USD' }, stock: Number(body.stock) || 0, images: [], description: body.description || '' };
    products.set(p.slug, p);
    send(req, res, 201, p, { Location: `/api/v1/products/${p.slug}` });
  }],
  ['GET', /^\/api\/v1\/products\/([a-z0-9-]+)$/, false, (req, res, { m }) => {
    const p = products.get(m[1]);
    p ? send(req, res, 200, p) : err(req, res, 404, 'not_found', `product ${m[1]} not found`);
  }],
  [/^(PUT|PATCH|DELETE)$/, /^\/api\/v1\/products\/([a-z0-9-]+)$/, true, (req, res, { m, body }) => {
    const p = products.get(m[1]);
    if (!p) return err(req, res, 404, 'not_found', `product ${m[1]} not found`);
    if (req.method === 'DELETE') { products.delete(p.slug); return send(req, res, 204); }
    Object.assign(p, body, { slug: p.slug });
    send(req, res, 200, p);
  }],
];

let reqSeq = 0;
const server = http.createServer((req, res) => {
  req.id = `req-${String(++reqSeq).padStart(5, '0')}`;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://localhost');
    const matches = routes.map(([meth, re, auth, fn]) => ({ meth, auth, fn, m: re.exec(url.pathname) })).filter((r) => r.m);
    if (!matches.length) return err(req, res, 404, 'not_found', `no route for ${url.pathname}`);
    const hit = matches.find((r) => (typeof r.meth === 'string' ? r.meth === req.method : r.meth.test(req.method)));
    if (!hit) return err(req, res, 405, 'method_not_allowed', `${req.method} not allowed on ${url.pathname}`, {}, { Allow: matches.map((r) => String(r.meth).replace(/[/^$()]/g, '').split('|').join(', ')).join(', ') });
    const user = verifyToken(req);
    if (hit.auth && !user) return err(req, res, 401, 'unauthorized', 'missing or invalid bearer token', {}, { 'WWW-Authenticate': 'Bearer realm="shop-api"' });
    let body;
    try { body = parseBody(req, Buffer.concat(chunks)); } catch (e) { return err(req, res, 400, 'invalid_json', e.message); }
    hit.fn(req, res, { m: hit.m, q: url.searchParams, body, user });
  });
});
server.keepAliveTimeout = 30000;                   // keep client connections alive for the whole run
server.listen(PORT, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${PORT}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
