// Preloaded into peer gateways that listen on every interface (node
// --require): a listen on a bare port binds to the loopback interface
// instead, so that the benchmark's servers are reachable from this machine
// only. Nothing else changes.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  } else if (args[0] !== null && typeof args[0] === 'object' && args[0].port !== undefined && args[0].host === undefined && args[0].path === undefined) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
