'use strict';
// loopback.cjs: a Node preload (`node --require ./loopback.cjs ...`) that keeps
// every TCP listener on the loopback interface.
//
// The conformance suite's mock servers (and server-everything) call
// listen(0) or listen(PORT) with no host, which binds all interfaces. With
// this preload such calls bind 127.0.0.1 instead. Servers from http, https,
// http2 and Express all go through net.Server, so they are covered too.
//
// The bind must stay synchronous: the suite reads server.address().port right
// after listen() returns. Passing a host to listen() would not do: Node then
// resolves the host with dns.lookup and binds a tick later, even for an IP
// literal. Instead this preload works in two places:
//
//  1. net.Server.prototype.listen: a call that names an all-interfaces host
//     ('', '0.0.0.0', '::') has that host dropped, so Node takes its
//     synchronous "no host" path. Every other argument (port, backlog,
//     callback, options such as exclusive or signal) is passed through in
//     the same positions.
//  2. net.Server.prototype._listen2 (Node's setupListenHandle, where the
//     socket is actually created and bound, synchronously): an unspecified
//     address (null, '', '0.0.0.0', '::') becomes 127.0.0.1.
//
// IPC paths, inherited handles and file descriptors are never touched, nor
// are explicit hosts such as 127.0.0.1, ::1 or localhost.
//
// Set LOOPBACK_PRELOAD_DEBUG=1 to log each rewrite on stderr.

const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const UNSPECIFIED = new Set([undefined, null, '', '0.0.0.0', '::']);
const debug = process.env.LOOPBACK_PRELOAD_DEBUG === '1';

function log(message) {
  if (debug) process.stderr.write(`loopback.cjs: ${message}\n`);
}

// isPort mirrors Node's own rule: a number, or a string that converts to a
// number (any other string is a pipe or socket path).
function isPort(value) {
  if (typeof value === 'number') return true;
  if (typeof value === 'string') return value.trim() !== '' && !Number.isNaN(Number(value));
  return false;
}

// dropUnspecifiedHost returns the listen() arguments with an explicit
// all-interfaces host removed, or null when the arguments need no change.
function dropUnspecifiedHost(args) {
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    // An options object; handles and fds are left to Node.
    if ('_handle' in first || 'handle' in first || 'fd' in first || first.path !== undefined) {
      return null;
    }
    if (!('host' in first) || !UNSPECIFIED.has(first.host)) return null;
    const options = { ...first };
    delete options.host;
    delete options.ipv6Only;
    return [options, ...args.slice(1)];
  }
  // (port, host[, backlog][, cb]): Node reads args[1] as the host only when
  // it is a string. Replacing it with undefined keeps a backlog in args[2]
  // where Node looks for it.
  if ((first === undefined || first === null || isPort(first)) &&
      typeof args[1] === 'string' && UNSPECIFIED.has(args[1])) {
    const rewritten = args.slice();
    rewritten[1] = undefined;
    return rewritten;
  }
  return null;
}

const originalListen = net.Server.prototype.listen;
const originalListen2 = net.Server.prototype._listen2;
if (typeof originalListen2 !== 'function') {
  // Fail loudly rather than let servers bind every interface.
  throw new Error(
    `loopback.cjs: net.Server.prototype._listen2 is missing in Node ${process.version}; ` +
      'the loopback preload needs updating for this Node version',
  );
}

net.Server.prototype.listen = function listen(...args) {
  const rewritten = dropUnspecifiedHost(args);
  if (rewritten === null) return originalListen.apply(this, args);
  log(`listen: dropped all-interfaces host ${JSON.stringify(args[0]?.host ?? args[1])}`);
  return originalListen.apply(this, rewritten);
};

net.Server.prototype._listen2 = function _listen2(address, port, addressType, backlog, fd, ...rest) {
  if (typeof fd !== 'number' && UNSPECIFIED.has(address)) {
    log(`bind ${JSON.stringify(address)}:${port} -> ${LOOPBACK}:${port}`);
    return originalListen2.call(this, LOOPBACK, port, 4, backlog, fd, ...rest);
  }
  return originalListen2.call(this, address, port, addressType, backlog, fd, ...rest);
};

// Exposed for the self-test (loopback.test.cjs).
module.exports = { dropUnspecifiedHost };
