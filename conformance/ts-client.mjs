// ts-client.mjs: a command-line MCP client built on the pinned TypeScript SDK
// (@modelcontextprotocol/sdk), so that Go tests can check Switchboard servers
// against the reference client. Run it with the pinned node:
//
//   node_modules/node/bin/node ts-client.mjs ACTION [options] TRANSPORT
//
// TRANSPORT (exactly one):
//   --stdio -- CMD [ARGS...]   spawn CMD and speak over its stdin/stdout;
//                              everything after -- is the command line, so
//                              this goes last
//   --url URL                  Streamable HTTP
//   --sse URL                  legacy HTTP+SSE
// ACTION (exactly one):
//   --list                     print {"protocolVersion", "serverInfo",
//                              "capabilities", "tools", "resources",
//                              "resourceTemplates", "prompts"}: the names of
//                              what the server advertises (lists are fetched
//                              only for capabilities the server declares)
//   --call NAME [--args JSON]  call tool NAME with the JSON object in --args
//                              (default {}) and print the CallToolResult; a
//                              result with isError: true is still exit 0
// Options:
//   --protocol-version V       offer V in initialize instead of the SDK's
//                              latest (the SDK has no option for this, so the
//                              outgoing initialize request is rewritten; the
//                              SDK still refuses a reply with a version it
//                              does not support)
//   --timeout MS               per-request timeout, default 30000
//
// Output: one JSON document on stdout. Errors go to stderr, exit status 1;
// usage errors exit 2. The stdio server's stderr passes through to ours, and
// it inherits our whole environment. Over HTTP the session is ended with
// DELETE before exit (a failure there is only reported on stderr).

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const USAGE = `usage: ts-client.mjs (--list | --call NAME [--args JSON])
                     [--protocol-version V] [--timeout MS]
                     (--url URL | --sse URL | --stdio -- CMD [ARGS...])`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { args: {}, timeout: 30000 };
  const transports = [];
  const actions = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--stdio': {
        transports.push('stdio');
        if (argv[i + 1] !== '--' || i + 2 >= argv.length) {
          throw new UsageError('--stdio must be followed by -- and the server command');
        }
        opts.command = argv[i + 2];
        opts.commandArgs = argv.slice(i + 3);
        i = argv.length;
        break;
      }
      case '--url':
        transports.push('http');
        opts.url = value();
        break;
      case '--sse':
        transports.push('sse');
        opts.url = value();
        break;
      case '--list':
        actions.push('list');
        break;
      case '--call':
        actions.push('call');
        opts.tool = value();
        break;
      case '--args': {
        const text = value();
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch (err) {
          throw new UsageError(`--args is not JSON: ${err.message}`);
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new UsageError('--args must be a JSON object');
        }
        opts.args = parsed;
        opts.argsGiven = true;
        break;
      }
      case '--protocol-version':
        opts.protocolVersion = value();
        break;
      case '--timeout': {
        const ms = Number(value());
        if (!Number.isInteger(ms) || ms <= 0) throw new UsageError('--timeout must be a positive integer (milliseconds)');
        opts.timeout = ms;
        break;
      }
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (opts.help) return opts;
  if (transports.length !== 1) throw new UsageError('give exactly one of --stdio, --url, --sse');
  if (actions.length !== 1) throw new UsageError('give exactly one of --list, --call');
  if (opts.argsGiven && actions[0] !== 'call') throw new UsageError('--args goes with --call');
  opts.transport = transports[0];
  opts.action = actions[0];
  if (opts.url !== undefined) {
    try {
      opts.url = new URL(opts.url);
    } catch {
      throw new UsageError(`not a URL: ${opts.url}`);
    }
  }
  return opts;
}

function makeTransport(opts) {
  switch (opts.transport) {
    case 'stdio':
      return new StdioClientTransport({
        command: opts.command,
        args: opts.commandArgs,
        env: { ...process.env },
        stderr: 'inherit',
      });
    case 'http':
      return new StreamableHTTPClientTransport(opts.url);
    case 'sse':
      return new SSEClientTransport(opts.url);
  }
  throw new Error(`unknown transport ${opts.transport}`);
}

// instrument wraps the transport so that the initialize request offers
// protocolVersion (when set), and records the version the server answers.
function instrument(transport, protocolVersion) {
  const state = { initializeId: undefined, negotiated: undefined };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    if (message && message.method === 'initialize' && 'id' in message) {
      state.initializeId = message.id;
      if (protocolVersion !== undefined) {
        message = { ...message, params: { ...message.params, protocolVersion } };
      }
    }
    return send(message, options);
  };
  let handler;
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    enumerable: true,
    get() {
      return handler;
    },
    set(inner) {
      handler =
        typeof inner === 'function'
          ? (message, extra) => {
              if (
                message &&
                state.initializeId !== undefined &&
                message.id === state.initializeId &&
                message.result
              ) {
                state.negotiated = message.result.protocolVersion;
              }
              return inner(message, extra);
            }
          : inner;
    },
  });
  return state;
}

// listAll pages through a list method, bounded.
async function listAll(fetchPage, key, requestOptions) {
  const items = [];
  let cursor;
  for (let page = 0; page < 1000; page++) {
    const result = await fetchPage(cursor === undefined ? {} : { cursor }, requestOptions);
    items.push(...(result[key] ?? []));
    cursor = result.nextCursor;
    if (cursor === undefined || cursor === null) return items;
  }
  throw new Error(`${key}: more than 1000 pages`);
}

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const requestOptions = { timeout: opts.timeout };
  const client = new Client({ name: 'switchboard-ts-client', version: '1.0.0' }, { capabilities: {} });
  const transport = makeTransport(opts);
  const state = instrument(transport, opts.protocolVersion);
  let output;
  try {
    await client.connect(transport, requestOptions);
    if (opts.action === 'list') {
      const caps = client.getServerCapabilities() ?? {};
      const names = (items) => items.map((item) => item.name);
      output = {
        protocolVersion: state.negotiated,
        serverInfo: client.getServerVersion(),
        capabilities: caps,
        tools: caps.tools ? names(await listAll((p, o) => client.listTools(p, o), 'tools', requestOptions)) : [],
        resources: caps.resources
          ? names(await listAll((p, o) => client.listResources(p, o), 'resources', requestOptions))
          : [],
        resourceTemplates: caps.resources
          ? names(await listAll((p, o) => client.listResourceTemplates(p, o), 'resourceTemplates', requestOptions))
          : [],
        prompts: caps.prompts ? names(await listAll((p, o) => client.listPrompts(p, o), 'prompts', requestOptions)) : [],
      };
    } else {
      output = await client.callTool({ name: opts.tool, arguments: opts.args }, undefined, requestOptions);
    }
  } finally {
    if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
      try {
        await transport.terminateSession();
      } catch (err) {
        process.stderr.write(`ts-client: ending the session: ${err?.message ?? err}\n`);
      }
    }
    await client.close().catch(() => {});
  }
  await new Promise((resolve, reject) =>
    process.stdout.write(JSON.stringify(output) + '\n', (err) => (err ? reject(err) : resolve())),
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`ts-client: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    let message = `${err?.message ?? err}`;
    if (typeof err?.code === 'number') message += ` (code ${err.code})`;
    // fetch errors keep the reason (say, ECONNREFUSED) in their cause chain.
    for (let cause = err?.cause, depth = 0; cause && depth < 5; cause = cause.cause, depth++) {
      message += `: ${cause.message ?? cause}`;
    }
    process.stderr.write(`ts-client: ${message}\n`);
    process.exit(1);
  },
);
