// A small MCP client for the browser, over Streamable HTTP (revision
// 2025-11-25): the console's playground talks to the gateway with it, as
// any MCP client would. It answers the server's requests (elicitation,
// sampling, roots, ping) through the onRequest callback, reports
// notifications through onNotification, and progress per request.

export const PROTOCOL_VERSION = '2025-11-25';

// readSSE calls onEvent({event, data, id}) for each event of a fetch
// response body until it ends or signal aborts.
export async function readSSE(body, onEvent, signal) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ev = { event: 'message', data: [], id: undefined };
  try {
    for (;;) {
      if (signal && signal.aborted) return;
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (ev.data.length) await onEvent({ event: ev.event, data: ev.data.join('\n'), id: ev.id });
          ev = { event: 'message', data: [], id: ev.id };
          continue;
        }
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let val = i < 0 ? '' : line.slice(i + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') ev.data.push(val);
        else if (field === 'event') ev.event = val;
        else if (field === 'id') ev.id = val;
      }
    }
  } finally {
    reader.releaseLock?.();
  }
}

export class MCPError extends Error {
  constructor(error) {
    super(error?.message || 'MCP error');
    this.code = error?.code;
    this.data = error?.data;
  }
}

export class MCPClient {
  // url: the MCP endpoint; opts: {onRequest(method, params), onNotification(method, params), headers}
  constructor(url, opts = {}) {
    this.url = url;
    this.opts = opts;
    this.nextId = 1;
    this.sessionId = undefined;
    this.protocolVersion = undefined;
    this.serverInfo = undefined;
    this.capabilities = undefined;
    this.standalone = undefined;
  }

  headers(extra = {}) {
    const h = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(this.opts.headers || {}), ...extra };
    if (this.sessionId) h['Mcp-Session-Id'] = this.sessionId;
    if (this.protocolVersion) h['Mcp-Protocol-Version'] = this.protocolVersion;
    return h;
  }

  async connect() {
    const res = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: { elicitation: { form: {}, url: {} }, sampling: {} },
      clientInfo: { name: 'switchboard-console', title: 'Switchboard console', version: '1' },
    });
    this.protocolVersion = res.protocolVersion;
    this.serverInfo = res.serverInfo;
    this.capabilities = res.capabilities || {};
    this.instructions = res.instructions;
    await this.notify('notifications/initialized');
    this.openStandalone();
    return res;
  }

  // openStandalone keeps the GET stream open for messages unrelated to a
  // request (list changes, resource updates, logs), reconnecting after a
  // pause when it drops.
  async openStandalone() {
    const ctl = new AbortController();
    this.standalone = ctl;
    let lastId;
    while (!ctl.signal.aborted) {
      try {
        const h = this.headers({ Accept: 'text/event-stream' });
        delete h['Content-Type'];
        if (lastId) h['Last-Event-ID'] = lastId;
        const resp = await fetch(this.url, { method: 'GET', headers: h, signal: ctl.signal });
        if (resp.status === 405 || resp.status === 404) return;
        if (!resp.ok) throw new Error(`GET ${resp.status}`);
        await readSSE(resp.body, async (ev) => {
          if (ev.id) lastId = ev.id;
          await this.dispatch(ev.data, undefined);
        }, ctl.signal);
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 1500));
    }
  }

  async notify(method, params) {
    const body = { jsonrpc: '2.0', method };
    if (params !== undefined) body.params = params;
    const resp = await fetch(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify(body) });
    if (!resp.ok && resp.status !== 202) throw new Error(`${method}: HTTP ${resp.status}`);
    await resp.body?.cancel();
  }

  // request sends a request and resolves with its result. opts: {onProgress(p), signal}.
  async request(method, params, opts = {}) {
    const id = this.nextId++;
    let progressToken;
    params = params ? { ...params } : {};
    if (opts.onProgress) {
      progressToken = `console-${id}`;
      params._meta = { ...(params._meta || {}), progressToken };
    }
    const body = { jsonrpc: '2.0', id, method, params };
    const ctl = new AbortController();
    const onAbort = () => {
      this.notify('notifications/cancelled', { requestId: id, reason: 'cancelled in the console' }).catch(() => {});
      ctl.abort();
    };
    if (opts.signal) {
      if (opts.signal.aborted) throw new DOMException('cancelled', 'AbortError');
      opts.signal.addEventListener('abort', onAbort, { once: true });
    }
    try {
      const resp = await fetch(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify(body), signal: ctl.signal });
      if (method === 'initialize') this.sessionId = resp.headers.get('Mcp-Session-Id') || undefined;
      const type = resp.headers.get('Content-Type') || '';
      if (!resp.ok) {
        const text = await resp.text();
        let err;
        try { err = JSON.parse(text).error; } catch { /* not JSON */ }
        throw new MCPError(err || { message: `HTTP ${resp.status}: ${text.slice(0, 300)}` });
      }
      let answer;
      if (type.startsWith('text/event-stream')) {
        await readSSE(resp.body, async (ev) => {
          const msg = await this.dispatch(ev.data, { id, progressToken, onProgress: opts.onProgress });
          if (msg) answer = msg;
        }, ctl.signal);
      } else {
        answer = await this.dispatch(await resp.text(), { id, progressToken, onProgress: opts.onProgress });
      }
      if (!answer) throw new MCPError({ message: `no response to ${method}` });
      if (answer.error) throw new MCPError(answer.error);
      return answer.result;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  // dispatch handles one message from the server; it returns the response
  // to the request pending (if the message is it).
  async dispatch(data, pending) {
    let msg;
    try { msg = JSON.parse(data); } catch { return undefined; }
    if (Array.isArray(msg)) {
      let found;
      for (const m of msg) found = (await this.dispatch(JSON.stringify(m), pending)) || found;
      return found;
    }
    if (msg.id !== undefined && msg.method === undefined) {
      return pending && msg.id === pending.id ? msg : undefined;
    }
    if (msg.method && msg.id !== undefined) {
      this.answer(msg);
      return undefined;
    }
    if (msg.method === 'notifications/progress' && pending && msg.params?.progressToken === pending.progressToken) {
      pending.onProgress?.(msg.params);
      return undefined;
    }
    this.opts.onNotification?.(msg.method, msg.params || {});
    return undefined;
  }

  // answer runs the handler of a server request and posts its response.
  async answer(req) {
    let reply;
    try {
      let result;
      if (req.method === 'ping') result = {};
      else if (this.opts.onRequest) result = await this.opts.onRequest(req.method, req.params || {});
      else throw new MCPError({ code: -32601, message: `${req.method} is not supported by the console` });
      reply = { jsonrpc: '2.0', id: req.id, result };
    } catch (e) {
      reply = { jsonrpc: '2.0', id: req.id, error: { code: e.code ?? -32603, message: e.message || String(e) } };
    }
    const resp = await fetch(this.url, { method: 'POST', headers: this.headers(), body: JSON.stringify(reply) });
    await resp.body?.cancel();
  }

  async close() {
    this.standalone?.abort();
    if (this.sessionId) {
      const h = this.headers();
      delete h['Content-Type'];
      await fetch(this.url, { method: 'DELETE', headers: h }).catch(() => {});
      this.sessionId = undefined;
    }
  }

  async listAll(method, key) {
    const out = [];
    let cursor;
    for (let i = 0; i < 100; i++) {
      const res = await this.request(method, cursor ? { cursor } : {});
      out.push(...(res[key] || []));
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return out;
  }
}
