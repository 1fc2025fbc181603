'use strict';
// Self-test for loopback.cjs. Run with the pinned node:
//   node_modules/node/bin/node --test loopback.test.cjs
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { dropUnspecifiedHost } = require('./loopback.cjs');

const cb = () => {};

test('dropUnspecifiedHost', async (t) => {
  const cases = [
    { name: 'no arguments', in: [], out: null },
    { name: 'callback only', in: [cb], out: null },
    { name: 'port', in: [0], out: null },
    { name: 'port and callback', in: [0, cb], out: null },
    { name: 'port, backlog, callback', in: [0, 511, cb], out: null },
    { name: 'port, empty host', in: [0, '', cb], out: [0, undefined, cb] },
    { name: 'port, 0.0.0.0, backlog', in: [0, '0.0.0.0', 10, cb], out: [0, undefined, 10, cb] },
    { name: 'numeric string port, ::', in: ['3001', '::', cb], out: ['3001', undefined, cb] },
    { name: 'null port, ::', in: [null, '::'], out: [null, undefined] },
    { name: 'explicit loopback kept', in: [0, '127.0.0.1', cb], out: null },
    { name: 'explicit ::1 kept', in: [0, '::1'], out: null },
    { name: 'explicit localhost kept', in: [0, 'localhost'], out: null },
    { name: 'pipe path kept', in: ['/tmp/x.sock', cb], out: null },
    { name: 'options without host kept', in: [{ port: 0 }, cb], out: null },
    { name: 'options with ::', in: [{ port: 0, host: '::', ipv6Only: true }, cb], out: [{ port: 0 }, cb] },
    { name: 'options with 0.0.0.0', in: [{ port: 0, host: '0.0.0.0', exclusive: true }], out: [{ port: 0, exclusive: true }] },
    { name: 'options with host kept', in: [{ port: 0, host: '127.0.0.2' }], out: null },
    { name: 'options with path kept', in: [{ path: '/tmp/x.sock', host: '' }], out: null },
    { name: 'options with fd kept', in: [{ fd: 3, host: '' }], out: null },
    { name: 'handle kept', in: [{ _handle: {} }], out: null },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      assert.deepEqual(dropUnspecifiedHost(c.in), c.out);
    });
  }
  await t.test('options object is copied, not mutated', () => {
    const options = { port: 0, host: '::' };
    dropUnspecifiedHost([options]);
    assert.deepEqual(options, { port: 0, host: '::' });
  });
});

const forms = [
  { name: 'listen(cb)', call: (s, done) => s.listen(done) },
  { name: 'listen(0, cb)', call: (s, done) => s.listen(0, done) },
  { name: 'listen("0", cb)', call: (s, done) => s.listen('0', done) },
  { name: 'listen(null, cb)', call: (s, done) => s.listen(null, done) },
  { name: 'listen(0, 511, cb)', call: (s, done) => s.listen(0, 511, done) },
  { name: 'listen(0, "0.0.0.0", 511, cb)', call: (s, done) => s.listen(0, '0.0.0.0', 511, done) },
  { name: 'listen(0, "::", cb)', call: (s, done) => s.listen(0, '::', done) },
  { name: 'listen(0, "", cb)', call: (s, done) => s.listen(0, '', done) },
  { name: 'listen({port: 0}, cb)', call: (s, done) => s.listen({ port: 0 }, done) },
  { name: 'listen({port: 0, host: "::"}, cb)', call: (s, done) => s.listen({ port: 0, host: '::' }, done) },
];

for (const kind of ['net', 'http']) {
  test(`${kind} servers bind 127.0.0.1 synchronously`, async (t) => {
    for (const form of forms) {
      await t.test(form.name, async () => {
        const server = kind === 'net' ? net.createServer() : http.createServer();
        try {
          const listening = new Promise((resolve, reject) => {
            server.once('error', reject);
            form.call(server, resolve);
          });
          // The socket is bound before listen() returns.
          const addr = server.address();
          assert.ok(addr, 'address() is available right after listen()');
          assert.equal(addr.address, '127.0.0.1');
          assert.ok(addr.port > 0);
          await listening;
        } finally {
          await new Promise((resolve) => server.close(() => resolve()));
        }
      });
    }
  });
}

test('explicit hosts are kept', async () => {
  const server = net.createServer();
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.2', resolve);
    });
    assert.equal(server.address().address, '127.0.0.2');
  } finally {
    await new Promise((resolve) => server.close(() => resolve()));
  }
});

test('IPC paths are left alone', async () => {
  const sock = path.join(os.tmpdir(), `loopback-test-${process.pid}.sock`);
  const server = net.createServer();
  try {
    await new Promise((resolve) => server.listen(sock, resolve));
    assert.equal(server.address(), sock);
  } finally {
    await new Promise((resolve) => server.close(() => resolve()));
  }
});
