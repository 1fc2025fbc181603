// The console as an MCP Apps host (io.modelcontextprotocol/ui, stable
// 2026-01-26). A tool whose _meta.ui.resourceUri names a ui:// resource is
// shown with its app: the resource's HTML runs in a sandboxed iframe behind
// the sandbox proxy, on another origin (serve --apps-addr), under the CSP
// the gateway builds from the domains the view declares. The host speaks
// the host↔view JSON-RPC over postMessage, with both the v1 and the v2
// (ext-apps 2.x) method names:
//
//   view → host  ui/initialize, ui/notifications/initialized,
//                ui/notifications/size-changed, ui/open-link (asks the
//                person), ui/message, ui/update-model-context,
//                ui/request-display-mode, ui/notifications/request-teardown,
//                tools/call (asks the person; the app's own server only,
//                tools visible to apps only), resources/read (ui:// only),
//                notifications/message and ui/log, ping
//   host → view  ui/notifications/tool-input, tool-result, tool-cancelled,
//                host-context-changed, ui/resource-teardown, and the view's
//                own tools: ui/list-view-tools and ui/call-view-tool (v2),
//                tools/list and tools/call (v1)
//
// It is written for the console rather than built on the official
// AppBridge: see docs/apps.md.

import { el, clear, pretty } from './dom.js';

export const APPS_PROTOCOL = '2026-01-26';
export const MIME = 'text/html;profile=mcp-app';
const APP_ORIGINATED = 'switchboard/app-originated';
const CONSENT_KEY = 'switchboard-app-consent';
const THEME_KEY = 'switchboard-app-theme';
const MAX_HEIGHT = 720;

// The tools the person allowed apps to call, for this page's life (the
// console's MCP session): in "once per tool" mode they are not asked again.
const approvedTools = new Set();

// uiResourceOf returns the ui:// resource a tool declares ('' for none).
export function uiResourceOf(tool) {
  const ui = tool?._meta?.ui;
  if (ui && typeof ui.resourceUri === 'string') return ui.resourceUri;
  const flat = tool?._meta?.['ui/resourceUri'];
  return typeof flat === 'string' ? flat : '';
}

// visibleToApps reports whether a tool may be called by an app.
function visibleToApps(tool) {
  const v = tool?._meta?.ui?.visibility;
  return !Array.isArray(v) || v.length === 0 || v.includes('app');
}

function systemTheme() {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

// The console's palette as the spec's standard style variables.
function styleVariables(theme) {
  const dark = theme === 'dark';
  return {
    '--color-background-primary': dark ? '#1a1e26' : '#ffffff',
    '--color-background-secondary': dark ? '#232833' : '#f3f5f9',
    '--color-text-primary': dark ? '#e6e9ef' : '#1c2230',
    '--color-text-secondary': dark ? '#9aa3b2' : '#5d6678',
    '--color-border-primary': dark ? '#2c323d' : '#dde1e8',
    '--color-ring-primary': dark ? '#7c9cf0' : '#2f5bd3',
    '--font-sans': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    '--font-mono': 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
    '--border-radius-md': '8px',
  };
}

class RPCError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

let seq = 0;

// AppView is one rendered app: its frame, its protocol state, its panel.
export class AppView {
  // opts: {client, api, confirm(title, bodyNodes, buttons) → Promise<value>,
  //   sandboxURL, upstream (its detail), tool (exposed definition),
  //   original (the tool's name upstream), resourceURI (exposed),
  //   args, onClose}
  constructor(opts) {
    this.o = opts;
    this.id = ++seq;
    this.initialized = false;
    this.queue = [];
    this.pending = new Map();
    this.nextId = 1;
    this.displayMode = 'inline';
    this.theme = sessionStorage.getItem(THEME_KEY) || systemTheme();
    this.appCaps = {};
    this.viewToolNames = undefined; // which names the view's tools answer to: 'v2' or 'v1'
    this.closed = false;
    this.onMessage = (ev) => this.receive(ev);
  }

  // render builds the panel and starts loading the view; it returns the
  // panel element.
  render() {
    const o = this.o;
    this.frame = el('iframe', {
      class: 'app-frame', title: `App of ${o.tool.name}`, 'data-testid': 'app-frame',
      sandbox: 'allow-scripts allow-same-origin allow-forms', referrerpolicy: 'no-referrer',
    });
    this.activity = el('ol', { class: 'app-activity', 'data-testid': 'app-activity', 'aria-live': 'polite' });
    this.messages = el('div', { class: 'app-messages', 'data-testid': 'app-messages' });
    this.securityBox = el('dl', { class: 'kv small' });
    const consent = el('select', { 'aria-label': 'When the app calls a tool', 'data-testid': 'app-consent' },
      el('option', { value: 'once' }, 'Ask once per tool'),
      el('option', { value: 'always' }, 'Ask every time'));
    consent.value = sessionStorage.getItem(CONSENT_KEY) || 'once';
    consent.addEventListener('change', () => {
      sessionStorage.setItem(CONSENT_KEY, consent.value);
      approvedTools.clear();
    });
    const theme = el('select', { 'aria-label': 'Theme given to the app', 'data-testid': 'app-theme' },
      el('option', { value: 'light' }, 'Light'), el('option', { value: 'dark' }, 'Dark'));
    theme.value = this.theme;
    theme.addEventListener('change', () => {
      this.theme = theme.value;
      sessionStorage.setItem(THEME_KEY, this.theme);
      this.notifyContext({ theme: this.theme, styles: { variables: styleVariables(this.theme) } });
    });
    this.fullBtn = el('button', { type: 'button', onclick: () => this.setDisplayMode(this.displayMode === 'fullscreen' ? 'inline' : 'fullscreen') }, 'Fullscreen');
    this.toolsBtn = el('button', { type: 'button', hidden: true, onclick: () => this.showViewTools() }, 'View tools');
    const close = el('button', { type: 'button', 'data-testid': 'app-close', onclick: () => this.close('closed in the console') }, 'Close');
    this.state = el('span', { class: 'chip', 'data-testid': 'app-state' }, 'loading');
    this.panel = el('section', { class: 'app-panel', 'aria-label': `App of ${o.tool.name}`, 'data-testid': 'app-panel' },
      el('div', { class: 'app-bar' },
        el('div', { class: 'app-title' }, el('span', { class: 'app-badge' }, 'App'), el('span', { class: 'mono' }, o.resourceURI), this.state),
        el('div', { class: 'app-tools' },
          el('label', { class: 'small muted' }, 'Theme ', theme),
          el('label', { class: 'small muted' }, 'Tool calls ', consent),
          this.toolsBtn, this.fullBtn, close)),
      el('div', { class: 'app-stage' }, this.frame),
      this.messages,
      el('details', { class: 'app-details' }, el('summary', {}, 'Security'), this.securityBox),
      el('details', { class: 'app-details', open: true }, el('summary', {}, 'Activity (what the view asked)'), this.activity));
    this.load().catch((e) => this.fail(e));
    return this.panel;
  }

  fail(e) {
    this.state.textContent = 'failed';
    this.state.className = 'chip warn';
    this.log('host', `The app could not load: ${e.message || e}`, 'error');
  }

  log(kind, text, outcome = '') {
    const time = new Date().toLocaleTimeString();
    this.activity.append(el('li', { class: outcome ? `out-${outcome}` : '' }, el('span', { class: 'muted' }, time), ' ', el('b', {}, kind), ' ', text));
    while (this.activity.children.length > 200) this.activity.firstChild.remove();
  }

  // load reads the ui:// resource and frames the sandbox with its policy.
  async load() {
    const o = this.o;
    const read = await o.client.request('resources/read', { uri: o.resourceURI });
    const item = (read.contents || []).find((c) => c.uri === o.resourceURI) || (read.contents || [])[0];
    if (!item) throw new Error(`${o.resourceURI} has no contents`);
    if (item.mimeType !== MIME) this.log('host', `the resource's mime type is ${item.mimeType}, not ${MIME}`, 'error');
    let html = item.text;
    if (typeof html !== 'string' && typeof item.blob === 'string') {
      html = new TextDecoder().decode(Uint8Array.from(atob(item.blob), (c) => c.charCodeAt(0)));
    }
    if (typeof html !== 'string') throw new Error('the resource has neither text nor blob');
    // The content item's _meta.ui wins over the listing's.
    const listed = (o.upstream.resources || []).find((r) => r.uri === o.resourceURI)?.resource?._meta?.ui;
    const ui = item._meta?.ui || listed || {};
    this.ui = ui;
    this.html = html;
    const csp = ui.csp && typeof ui.csp === 'object' ? ui.csp : undefined;
    const q = csp ? `?csp=${encodeURIComponent(JSON.stringify(csp))}` : '';
    const pol = await o.api(`apps/policy${q}`);
    this.policy = pol.policy;
    this.permissions = ui.permissions && typeof ui.permissions === 'object' ? ui.permissions : {};
    const allow = Object.entries({ camera: 'camera', microphone: 'microphone', geolocation: 'geolocation', clipboardWrite: 'clipboard-write' })
      .filter(([k]) => this.permissions[k]).map(([, v]) => v).join('; ');
    if (allow) this.frame.setAttribute('allow', allow);
    if (ui.prefersBorder === false) this.panel.classList.add('borderless');
    const sandbox = new URL(o.sandboxURL);
    this.sandboxOrigin = sandbox.origin;
    sandbox.searchParams.set('host', location.origin);
    if (csp) sandbox.searchParams.set('csp', JSON.stringify(csp));
    this.frame.dataset.csp = pol.policy;
    clear(this.securityBox).append(
      el('dt', {}, 'sandbox origin'), el('dd', { class: 'mono', 'data-testid': 'app-origin' }, this.sandboxOrigin),
      el('dt', {}, 'policy'), el('dd', { class: 'mono', 'data-testid': 'app-csp' }, pol.policy),
      el('dt', {}, 'declared'), el('dd', { class: 'mono' }, csp ? JSON.stringify(csp) : 'nothing: the spec\u2019s default applies'),
      pol.dropped?.length ? el('dt', {}, 'left out') : null, pol.dropped?.length ? el('dd', { class: 'err-text' }, pol.dropped.join('; ')) : null,
      el('dt', {}, 'permissions'), el('dd', {}, allow || 'none'),
      ui.domain ? el('dt', {}, 'domain') : null, ui.domain ? el('dd', { class: 'mono' }, `${ui.domain} (not honored: the view runs on the console\u2019s sandbox origin)`) : null);
    this.log('host', `policy: ${pol.policy}`);
    window.addEventListener('message', this.onMessage);
    this.frame.src = sandbox.toString();
  }

  // ---------- transport ----------

  post(msg) {
    this.frame.contentWindow?.postMessage({ jsonrpc: '2.0', ...msg }, this.sandboxOrigin);
  }

  // notify sends a notification to the view, once it is initialized.
  notify(method, params) {
    if (!this.initialized) {
      this.queue.push([method, params]);
      return;
    }
    this.post({ method, params });
  }

  request(method, params, timeout = 10000) {
    const id = `host-${this.nextId++}`;
    this.post({ id, method, params });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new RPCError(-32001, `${method}: no answer from the view`));
      }, timeout);
      this.pending.set(id, { resolve, reject, t });
    });
  }

  receive(ev) {
    if (this.closed || ev.source !== this.frame.contentWindow || ev.origin !== this.sandboxOrigin) return;
    const m = ev.data;
    if (!m || typeof m !== 'object' || m.jsonrpc !== '2.0') {
      this.log('view', 'sent a message that is not JSON-RPC 2.0 (ignored)', 'error');
      return;
    }
    if (m.method === undefined && m.id !== undefined) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.t);
      if (m.error) p.reject(new RPCError(m.error.code, m.error.message));
      else p.resolve(m.result);
      return;
    }
    if (typeof m.method !== 'string') return;
    if (m.id === undefined) {
      this.onNotification(m.method, m.params || {});
      return;
    }
    this.onRequest(m.method, m.params || {}).then(
      (result) => this.post({ id: m.id, result: result ?? {} }),
      (e) => this.post({ id: m.id, error: { code: e.code ?? -32603, message: e.message || String(e) } }));
  }

  // ---------- view → host notifications ----------

  onNotification(method, p) {
    switch (method) {
      case 'ui/notifications/sandbox-proxy-ready':
        this.post({ method: 'ui/notifications/sandbox-resource-ready', params: { html: this.html, csp: this.ui.csp, permissions: this.permissions } });
        this.state.textContent = 'starting';
        return;
      case 'ui/notifications/initialized':
        if (this.initialized) return;
        this.initialized = true;
        this.state.textContent = 'running';
        this.state.className = 'chip ok';
        this.log('view', 'initialized');
        this.post({ method: 'ui/notifications/tool-input', params: { arguments: this.o.args || {} } });
        for (const [mm, pp] of this.queue.splice(0)) this.post({ method: mm, params: pp });
        return;
      case 'ui/notifications/size-changed':
        if (typeof p.height === 'number' && p.height > 0 && this.displayMode === 'inline') {
          this.frame.style.height = `${Math.min(MAX_HEIGHT, Math.max(48, Math.ceil(p.height)))}px`;
        }
        return;
      case 'notifications/message': // v1
      case 'ui/log': // v2
        this.log(method === 'ui/log' ? 'log (ui/log)' : 'log (notifications/message)', `${p.level || 'info'}${p.logger ? ' ' + p.logger : ''}: ${typeof p.data === 'string' ? p.data : JSON.stringify(p.data)}`);
        return;
      case 'ui/notifications/request-teardown':
        this.log('view', 'asked to be closed');
        this.close('the view asked to close');
        return;
      case 'notifications/cancelled':
        return;
      default:
        this.log('view', `notification ${method} (not handled)`);
    }
  }

  // ---------- view → host requests ----------

  async onRequest(method, p) {
    switch (method) {
      case 'ui/initialize':
        return this.initialize(p);
      case 'ping':
        return {};
      case 'tools/call':
        return this.callServerTool(p);
      case 'resources/read':
        return this.readServerResource(p);
      case 'ui/open-link':
        return this.openLink(p);
      case 'ui/message':
        return this.message(p);
      case 'ui/update-model-context':
        return this.updateModelContext(p);
      case 'ui/request-display-mode': {
        const mode = await this.setDisplayMode(p.mode);
        return { mode };
      }
      default:
        this.log('view', `request ${method}: not supported`, 'error');
        throw new RPCError(-32601, `${method} is not supported by the Switchboard console`);
    }
  }

  hostContext() {
    const o = this.o;
    const width = Math.round(this.frame.getBoundingClientRect().width) || 640;
    const tool = { ...o.tool, name: o.original };
    return {
      toolInfo: { id: o.callId ?? this.id, tool },
      theme: this.theme,
      styles: { variables: styleVariables(this.theme) },
      displayMode: this.displayMode,
      availableDisplayModes: ['inline', 'fullscreen'],
      containerDimensions: { width, maxHeight: MAX_HEIGHT },
      locale: navigator.language || 'en-US',
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      userAgent: 'switchboard-console',
      platform: 'web',
      deviceCapabilities: { touch: navigator.maxTouchPoints > 0, hover: window.matchMedia?.('(hover: hover)').matches ?? true },
      safeAreaInsets: { top: 0, right: 0, bottom: 0, left: 0 },
    };
  }

  initialize(p) {
    this.appCaps = p.appCapabilities || {};
    this.appInfo = p.appInfo || {};
    this.log('view', `ui/initialize from ${this.appInfo.name || 'an app'} ${this.appInfo.version || ''} (protocol ${p.protocolVersion || '?'})`);
    if (this.appCaps.tools) this.toolsBtn.hidden = false;
    const modes = this.appCaps.availableDisplayModes;
    this.fullBtn.hidden = Array.isArray(modes) && !modes.includes('fullscreen');
    return {
      protocolVersion: APPS_PROTOCOL,
      hostInfo: { name: 'switchboard-console', version: '1' },
      hostCapabilities: {
        openLinks: {},
        serverTools: {},
        serverResources: {},
        logging: {},
        message: { text: {} },
        updateModelContext: { text: {}, structuredContent: {} },
        sandbox: { permissions: this.permissions, csp: this.ui.csp || {} },
      },
      hostContext: this.hostContext(),
    };
  }

  // asks the person; resolves true when allowed.
  async consent(tool, args) {
    const mode = sessionStorage.getItem(CONSENT_KEY) || 'once';
    if (mode === 'once' && approvedTools.has(tool.name)) return true;
    const v = await this.o.confirm('The app wants to call a tool', [
      el('p', {}, 'The app of ', el('b', {}, this.o.upstream.name), ' asks to call ', el('code', {}, tool.name), tool.name !== tool.original ? el('span', { class: 'muted' }, ` (upstream: ${tool.original})`) : null, '.'),
      tool.tool.description ? el('p', { class: 'muted small' }, tool.tool.description) : null,
      el('div', { class: 'field' }, el('div', { class: 'label' }, 'Arguments'), el('pre', { class: 'consent-args' }, pretty(args || {}))),
      el('p', { class: 'muted small' }, mode === 'once' ? 'Allowing it lets the app call this tool again without asking, until you reload the console.' : 'You are asked at every call (see “Tool calls” above the app).'),
    ].filter(Boolean), [{ label: 'Deny', value: 'deny', danger: true }, { label: 'Allow', value: 'allow', primary: true }]);
    if (v !== 'allow') return false;
    if (mode === 'once') approvedTools.add(tool.name);
    return true;
  }

  async callServerTool(p) {
    const o = this.o;
    const name = p.name;
    // The app's own server only: its tools under their upstream names.
    const tool = (o.upstream.tools || []).find((t) => t.original === name);
    if (!tool) {
      this.log('tools/call', `${name}: refused, not a tool of ${o.upstream.name}`, 'error');
      throw new RPCError(-32602, `no tool ${name} on this app's server`);
    }
    if (!visibleToApps(tool.tool)) {
      this.log('tools/call', `${name}: refused, not visible to apps`, 'error');
      throw new RPCError(-32602, `tool ${name} is not visible to apps`);
    }
    const args = p.arguments || {};
    if (!(await this.consent(tool, args))) {
      this.log('tools/call', `${name}: denied by the person`, 'denied');
      throw new RPCError(-32000, 'The person denied the tool call');
    }
    this.log('tools/call', `${name} → ${tool.name} ${JSON.stringify(args)}`);
    try {
      const res = await o.client.request('tools/call', {
        name: tool.name, arguments: args,
        _meta: { [APP_ORIGINATED]: { upstream: o.upstream.name, resourceUri: o.resourceURI } },
      });
      this.log('tools/call', `${name}: ${res.isError ? 'error result' : 'ok'}`, res.isError ? 'error' : 'ok');
      return res;
    } catch (e) {
      this.log('tools/call', `${name}: ${e.message}`, 'error');
      throw new RPCError(e.code ?? -32603, e.message);
    }
  }

  async readServerResource(p) {
    const o = this.o;
    const uri = String(p.uri || '');
    if (!uri.startsWith('ui://')) {
      this.log('resources/read', `${uri}: refused (apps may read ui:// resources only)`, 'error');
      throw new RPCError(-32602, 'apps may read ui:// resources only');
    }
    const { uri: exposed } = await o.api(`upstreams/${encodeURIComponent(o.upstream.name)}/exposed-uri?uri=${encodeURIComponent(uri)}`);
    const res = await o.client.request('resources/read', { uri: exposed });
    for (const c of res.contents || []) if (c.uri === exposed) c.uri = uri;
    this.log('resources/read', `${uri}`, 'ok');
    return res;
  }

  async openLink(p) {
    let url;
    try {
      url = new URL(p.url);
    } catch {
      throw new RPCError(-32602, 'Invalid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RPCError(-32602, 'Only http and https links can be opened');
    const v = await this.o.confirm('The app wants to open a link', [
      el('p', {}, 'The app of ', el('b', {}, this.o.upstream.name), ' asks to open this page in a new tab:'),
      el('p', { class: 'mono link-preview' }, url.toString()),
    ], [{ label: 'Cancel', value: 'deny' }, { label: 'Open', value: 'allow', primary: true }]);
    if (v !== 'allow') {
      this.log('ui/open-link', `${url}: declined`, 'denied');
      throw new RPCError(-32000, 'Link opening denied by the person');
    }
    window.open(url.toString(), '_blank', 'noopener,noreferrer');
    this.log('ui/open-link', `${url}: opened`, 'ok');
    return {};
  }

  contentText(content) {
    return [].concat(content || []).map((c) => (c?.type === 'text' ? c.text : `[${c?.type || 'content'}]`)).join('\n');
  }

  message(p) {
    const text = this.contentText(p.content);
    this.messages.append(el('div', { class: 'app-msg' }, el('div', { class: 'msg-role' }, `${p.role || 'user'} message from the app (the console has no conversation: it is shown here)`), el('pre', {}, text)));
    this.log('ui/message', text.slice(0, 120), 'ok');
    return {};
  }

  updateModelContext(p) {
    let box = this.messages.querySelector('.app-context');
    if (!box) {
      box = el('div', { class: 'app-msg app-context' });
      this.messages.prepend(box);
    }
    const parts = [this.contentText(p.content)];
    if (p.structuredContent !== undefined) parts.push(pretty(p.structuredContent));
    clear(box).append(el('div', { class: 'msg-role' }, 'model context (the latest update replaces the previous one)'), el('pre', {}, parts.filter(Boolean).join('\n')));
    this.log('ui/update-model-context', parts[0].slice(0, 120) || 'structured content', 'ok');
    return {};
  }

  async setDisplayMode(mode) {
    const modes = this.appCaps.availableDisplayModes;
    const ok = (mode === 'inline' || mode === 'fullscreen') && (!Array.isArray(modes) || modes.includes(mode));
    if (ok && mode !== this.displayMode) {
      this.displayMode = mode;
      this.panel.classList.toggle('fullscreen', mode === 'fullscreen');
      this.fullBtn.textContent = mode === 'fullscreen' ? 'Exit fullscreen' : 'Fullscreen';
      if (mode === 'inline') this.frame.style.height = '';
      this.log('display mode', mode, 'ok');
      const width = Math.round(this.frame.getBoundingClientRect().width);
      this.notifyContext(mode === 'fullscreen'
        ? { displayMode: mode, containerDimensions: { width, height: Math.round(this.frame.getBoundingClientRect().height) } }
        : { displayMode: mode, containerDimensions: { width, maxHeight: MAX_HEIGHT } });
    }
    return this.displayMode;
  }

  notifyContext(params) {
    this.notify('ui/notifications/host-context-changed', params);
  }

  // ---------- host → view ----------

  toolResult(res) {
    this.notify('ui/notifications/tool-result', res);
  }

  toolCancelled(reason) {
    this.notify('ui/notifications/tool-cancelled', { reason });
  }

  // callView asks the view's own tools with the v2 name, falling back to
  // the v1 one (MethodNotFound), and remembers which answered.
  async callView(v2, v1, params) {
    if (this.viewToolNames !== 'v1') {
      try {
        const r = await this.request(v2, params);
        this.viewToolNames = 'v2';
        return r;
      } catch (e) {
        if (e.code !== -32601 || this.viewToolNames === 'v2') throw e;
      }
    }
    const r = await this.request(v1, params);
    this.viewToolNames = 'v1';
    return r;
  }

  async showViewTools() {
    try {
      const res = await this.callView('ui/list-view-tools', 'tools/list', {});
      const tools = res.tools || [];
      this.log('view tools', `${tools.length} (${this.viewToolNames === 'v2' ? 'ui/list-view-tools' : 'tools/list'})`, 'ok');
      const pick = el('select', { 'aria-label': 'View tool' }, ...tools.map((t) => el('option', { value: t.name }, t.name)));
      const args = el('textarea', { rows: 4, 'aria-label': 'Arguments (JSON)' }, '{}');
      const v = await this.o.confirm('Call a tool of the view', [
        el('p', { class: 'muted small' }, 'The view declares tools of its own; the host may call them.'),
        el('div', { class: 'field' }, el('label', {}, 'Tool'), pick),
        el('div', { class: 'field' }, el('label', {}, 'Arguments (JSON)'), args),
      ], [{ label: 'Cancel', value: 'cancel' }, { label: 'Call', value: 'call', primary: true }]);
      if (v !== 'call' || !pick.value) return;
      const r = await this.callView('ui/call-view-tool', 'tools/call', { name: pick.value, arguments: JSON.parse(args.value || '{}') });
      this.log('view tool', `${pick.value}: ${this.contentText(r.content).slice(0, 120)}`, r.isError ? 'error' : 'ok');
    } catch (e) {
      this.log('view tools', e.message, 'error');
    }
  }

  // close tears the view down: ui/resource-teardown, awaited briefly.
  // Every call waits for the same teardown.
  close(reason) {
    this.closing ||= this.teardown(reason);
    return this.closing;
  }

  async teardown(reason) {
    if (this.initialized) {
      try {
        await this.request('ui/resource-teardown', { reason }, 2000);
        this.log('host', `ui/resource-teardown answered (${reason})`);
      } catch (e) {
        this.log('host', `ui/resource-teardown: ${e.message}`, 'error');
      }
    }
    this.closed = true;
    window.removeEventListener('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.t);
      p.reject(new RPCError(-32000, 'the view was closed'));
    }
    this.pending.clear();
    this.frame.remove();
    this.panel.remove();
    this.o.onClose?.();
  }
}
