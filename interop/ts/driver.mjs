// driver.mjs: drives a TypeScript SDK (@modelcontextprotocol/sdk) client
// for the Go interop tests, one operation at a time.
//
//   node driver.mjs --sdk DIR (--url URL | --stdio -- CMD [ARGS...])
//
// --sdk is the SDK package directory (conformance/node_modules/
// @modelcontextprotocol/sdk): the SDK is imported from there, so this file
// needs no node_modules of its own.
//
// The client declares sampling and elicitation (form) and answers them
// the same way the Go peers do: sampling returns an assistant text
// "sampled: " + the first message's text, model "interop-model";
// elicitation accepts, filling each property with its default, or
// "interop" for strings.
//
// After connecting it prints one line {"ready":true,"initialize":RESULT}
// (RESULT is the raw initialize result), or {"ready":false,"error":…} and
// exits 1. Then it reads one JSON request per line on stdin,
// {"id":N,"op":OP,"params":{…}}, runs it and prints one line
// {"id":N,"ok":true,"result":…} or {"id":N,"ok":false,"error":{"message",
// "code"}}. Ops: list {kind}, callTool {name, arguments, progress},
// readResource {uri}, getPrompt {name, arguments}, complete {ref, argument},
// setLevel {level}, subscribe {uri}, unsubscribe {uri}, ping,
// notifications (every server notification received so far, raw). On
// stdin EOF it ends the session (DELETE over HTTP) and exits 0.

import { pathToFileURL } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--sdk':
        opts.sdk = argv[++i];
        break;
      case '--url':
        opts.url = argv[++i];
        break;
      case '--stdio':
        if (argv[i + 1] !== '--' || i + 2 >= argv.length) throw new Error('--stdio needs -- CMD [ARGS...]');
        opts.command = argv[i + 2];
        opts.args = argv.slice(i + 3);
        i = argv.length;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.sdk) throw new Error('--sdk DIR is required');
  if (!opts.url === !opts.command) throw new Error('give exactly one of --url, --stdio');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const sdk = (p) => import(pathToFileURL(path.join(opts.sdk, 'dist', 'esm', p)).href);
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const types = await sdk('types.js');

const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');

function samplingReply(params) {
  let prompt = '';
  const first = params?.messages?.[0]?.content;
  for (const c of Array.isArray(first) ? first : [first]) {
    if (c && c.type === 'text') {
      prompt = c.text;
      break;
    }
  }
  return { role: 'assistant', content: { type: 'text', text: 'sampled: ' + prompt }, model: 'interop-model', stopReason: 'endTurn' };
}

function elicitReply(params) {
  const content = {};
  for (const [name, p] of Object.entries(params?.requestedSchema?.properties ?? {})) {
    if (p.default !== undefined) content[name] = p.default;
    else if (p.type === 'string') content[name] = 'interop';
    else if (p.type === 'number' || p.type === 'integer') content[name] = 1;
    else if (p.type === 'boolean') content[name] = true;
  }
  return { action: 'accept', content };
}

const transport = opts.url
  ? new StreamableHTTPClientTransport(new URL(opts.url))
  : new StdioClientTransport({ command: opts.command, args: opts.args, env: { ...process.env }, stderr: 'inherit' });

// Record every server notification and the raw initialize result by
// wrapping the transport, below the SDK's own parsing.
const notifications = [];
let initializeId;
let initializeResult;
const send = transport.send.bind(transport);
transport.send = (message, options) => {
  if (message?.method === 'initialize' && 'id' in message) initializeId = message.id;
  return send(message, options);
};
let inner;
Object.defineProperty(transport, 'onmessage', {
  configurable: true,
  get: () => inner,
  set(fn) {
    inner =
      typeof fn === 'function'
        ? (message, extra) => {
            if (message && typeof message.method === 'string' && !('id' in message)) {
              notifications.push({ method: message.method, params: message.params ?? {} });
            }
            if (message && initializeId !== undefined && message.id === initializeId && message.result) {
              initializeResult = message.result;
            }
            return fn(message, extra);
          }
        : fn;
  },
});

const client = new Client(
  { name: 'interop-ts-sdk', version: '1' },
  { capabilities: { sampling: {}, elicitation: { form: {} } } },
);
client.setRequestHandler(types.CreateMessageRequestSchema, (req) => samplingReply(req.params));
client.setRequestHandler(types.ElicitRequestSchema, (req) => elicitReply(req.params));
// The SDK drops notifications it has no handler for only after our
// wrapper saw them; these handlers keep it from logging about them.
for (const schema of [types.LoggingMessageNotificationSchema, types.ResourceUpdatedNotificationSchema]) {
  client.setNotificationHandler(schema, () => {});
}

const timeout = { timeout: 20000 };

async function listAll(kind) {
  const fn = {
    tools: (p) => client.listTools(p, timeout),
    resources: (p) => client.listResources(p, timeout),
    resourceTemplates: (p) => client.listResourceTemplates(p, timeout),
    prompts: (p) => client.listPrompts(p, timeout),
  }[kind];
  if (!fn) throw new Error(`unknown list ${kind}`);
  const items = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const res = await fn(cursor === undefined ? {} : { cursor });
    items.push(...(res[kind] ?? []));
    cursor = res.nextCursor;
    if (cursor === undefined || cursor === null) return items;
  }
  throw new Error(`${kind}: more than 100 pages`);
}

async function run(op, p) {
  switch (op) {
    case 'list':
      return listAll(p.kind);
    case 'callTool': {
      if (!p.progress) return client.callTool({ name: p.name, arguments: p.arguments }, undefined, timeout);
      // With onprogress the SDK sets _meta.progressToken (the request id);
      // report the token it sent.
      let token;
      const before = transport.send;
      transport.send = (message, options) => {
        if (message?.method === 'tools/call' && token === undefined) token = message.params?._meta?.progressToken;
        return before(message, options);
      };
      try {
        const result = await client.callTool({ name: p.name, arguments: p.arguments }, undefined, { ...timeout, onprogress: () => {} });
        return { result, token };
      } finally {
        transport.send = before;
      }
    }
    case 'readResource':
      return client.readResource({ uri: p.uri }, timeout);
    case 'getPrompt':
      return client.getPrompt({ name: p.name, arguments: p.arguments }, timeout);
    case 'complete':
      return client.complete({ ref: p.ref, argument: p.argument }, timeout);
    case 'setLevel':
      return client.setLoggingLevel(p.level, timeout);
    case 'subscribe':
      return client.subscribeResource({ uri: p.uri }, timeout);
    case 'unsubscribe':
      return client.unsubscribeResource({ uri: p.uri }, timeout);
    case 'ping':
      return client.ping(timeout);
    case 'notifications':
      return notifications;
    default:
      throw new Error(`unknown op ${op}`);
  }
}

async function close() {
  if (transport instanceof StreamableHTTPClientTransport && transport.sessionId !== undefined) {
    await transport.terminateSession().catch((err) => process.stderr.write(`driver: ending the session: ${err?.message ?? err}\n`));
  }
  await client.close().catch(() => {});
}

try {
  await client.connect(transport, timeout);
} catch (err) {
  out({ ready: false, error: String(err?.message ?? err) });
  await close();
  process.exit(1);
}
out({ ready: true, initialize: initializeResult });

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (line.trim() === '') continue;
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    out({ id: null, ok: false, error: { message: `bad request line: ${err.message}` } });
    continue;
  }
  try {
    const result = await run(req.op, req.params ?? {});
    out({ id: req.id, ok: true, result: result ?? null });
  } catch (err) {
    out({ id: req.id, ok: false, error: { message: String(err?.message ?? err), code: typeof err?.code === 'number' ? err.code : undefined } });
  }
}
await close();
process.exit(0);
