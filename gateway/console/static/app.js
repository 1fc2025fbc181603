// The Switchboard console: upstreams and their health, what each offers,
// a playground that is a real MCP client of the gateway, live sessions and
// logs. No framework, no build step, no network but the gateway's own.

import { el, clear, pretty, ago } from './dom.js';
import { MCPClient, readSSE } from './mcp.js';
import { buildForm, promptSchema } from './form.js';
import { toolResult, readResult, promptResult, errorBlock } from './render.js';
import { AppView, uiResourceOf } from './apps.js';

const main = document.getElementById('main');
const dialog = document.getElementById('dialog');

// ---------- admin API ----------

const tokenKey = 'switchboard-admin-token';

async function api(path, opts = {}) {
  const headers = { ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(`/api/${path}`, { method: opts.method || 'GET', headers, body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined, signal: opts.signal });
  if (resp.status === 401) {
    await askToken();
    return api(path, opts);
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body?.error?.message || `HTTP ${resp.status}`);
  return body;
}

function askToken() {
  return new Promise((resolve) => {
    const input = el('input', { type: 'password', id: 'admin-token', autocomplete: 'off' });
    openDialog('Admin token', [
      el('p', {}, 'This gateway protects its admin API with a token (serve --admin-token or SWITCHBOARD_ADMIN_TOKEN).'),
      el('div', { class: 'field' }, el('label', { for: 'admin-token' }, 'Token'), input),
    ], [{ label: 'Use token', primary: true, value: 'ok' }], () => {
      sessionStorage.setItem(tokenKey, input.value.trim());
      resolve();
    });
    input.focus();
  });
}

// ---------- dialogs and toasts ----------

let dialogDone;
let dialogCheck;
// openDialog shows a modal dialog; onClose gets the value of the button
// that closed it. check, if given, may refuse a button's value by
// returning a message (shown in the dialog, which stays open).
function openDialog(title, body, buttons, onClose, check) {
  document.getElementById('dialog-title').textContent = title;
  clear(document.getElementById('dialog-body')).append(...body);
  const actions = clear(document.getElementById('dialog-actions'));
  for (const b of buttons) {
    actions.append(el('button', { value: b.value, class: b.primary ? 'primary' : (b.danger ? 'danger' : ''), 'data-testid': `dialog-${b.value}` }, b.label));
  }
  dialogDone = onClose;
  dialogCheck = check;
  dialog.returnValue = '';
  dialog.showModal();
}

// ask shows a dialog and resolves with the value of the button chosen
// ('cancel' when dismissed).
function ask(title, body, buttons) {
  return new Promise((resolve) => {
    openDialog(title, body, buttons, resolve);
    dialog.querySelector('.dialog-actions button.primary')?.focus();
  });
}

document.getElementById('dialog-form').addEventListener('submit', (ev) => {
  const msg = dialogCheck?.(ev.submitter?.value);
  if (msg) {
    ev.preventDefault();
    const box = document.getElementById('dialog-error') || el('div', { id: 'dialog-error', role: 'alert', class: 'err-text' });
    box.textContent = msg;
    document.getElementById('dialog-body').append(box);
  }
});

dialog.addEventListener('close', () => {
  const done = dialogDone;
  dialogDone = undefined;
  done?.(dialog.returnValue || 'cancel');
});

function toast(msg, kind = '') {
  const t = el('div', { class: `toast ${kind}` }, msg);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), 5000);
}

// ---------- the playground's MCP client ----------

let client;
let clientReady;
const changeListeners = new Set();

function mcp() {
  if (!clientReady) {
    client = new MCPClient('/mcp', {
      onRequest: serverRequest,
      onNotification: (method) => {
        if (method.endsWith('/list_changed')) changeListeners.forEach((f) => f(method));
      },
    });
    clientReady = client.connect().catch((e) => {
      clientReady = undefined;
      throw e;
    });
  }
  return clientReady.then(() => client);
}

// serverRequest answers what the gateway (for an upstream) asks of the
// person: elicitation (form or URL) and sampling.
function serverRequest(method, params) {
  if (method === 'elicitation/create') return elicit(params);
  if (method === 'sampling/createMessage') return sample(params);
  if (method === 'roots/list') return Promise.resolve({ roots: [] });
  return Promise.reject(Object.assign(new Error(`${method} is not supported by the console`), { code: -32601 }));
}

function elicit(p) {
  return new Promise((resolve) => {
    if (p.mode === 'url') {
      openDialog('An upstream asks you to visit a page', [
        el('p', {}, p.message || ''),
        el('p', {}, el('a', { href: p.url, target: '_blank', rel: 'noopener noreferrer' }, p.url)),
        el('p', { class: 'muted small' }, 'Open it, finish there, then come back and choose Done.'),
      ], [{ label: 'Cancel', value: 'cancel' }, { label: 'Decline', value: 'decline', danger: true }, { label: 'Done', value: 'accept', primary: true }],
      (v) => resolve({ action: v === 'accept' ? 'accept' : v === 'decline' ? 'decline' : 'cancel' }));
      return;
    }
    const f = buildForm(p.requestedSchema || { type: 'object', properties: {} }, {}, true);
    let content;
    openDialog('An upstream asks for your input', [el('p', {}, p.message || ''), f.form],
      [{ label: 'Cancel', value: 'cancel' }, { label: 'Decline', value: 'decline', danger: true }, { label: 'Submit', value: 'accept', primary: true }],
      (v) => resolve(v === 'accept' ? { action: 'accept', content } : { action: v === 'decline' ? 'decline' : 'cancel' }),
      (v) => {
        if (v !== 'accept') return undefined;
        try {
          content = f.read();
          return undefined;
        } catch (e) {
          return e.message; // the question stays open until the answer is valid
        }
      });
    dialog.querySelector('input,select,textarea')?.focus();
  });
}

function sample(p) {
  return new Promise((resolve, reject) => {
    const reply = el('textarea', { id: 'sample-reply', rows: 4 });
    const msgs = (p.messages || []).map((m) => el('div', { class: 'msg' }, el('div', { class: 'msg-role' }, m.role),
      el('pre', {}, [].concat(m.content || []).map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'))));
    openDialog('An upstream asks for a model completion (sampling)', [
      p.systemPrompt ? el('p', { class: 'muted small' }, `System: ${p.systemPrompt}`) : null,
      ...msgs,
      el('div', { class: 'field' }, el('label', { for: 'sample-reply' }, 'Your reply, as the assistant'), reply),
    ].filter(Boolean), [{ label: 'Decline', value: 'decline', danger: true }, { label: 'Send', value: 'send', primary: true }], (v) => {
      if (v !== 'send') return reject(Object.assign(new Error('the person declined the sampling request'), { code: -1 }));
      resolve({ role: 'assistant', model: 'human-in-the-console', content: { type: 'text', text: reply.value }, stopReason: 'endTurn' });
    });
    reply.focus();
  });
}

// ---------- views ----------

const stateClass = (s) => `pill s-${s}`;

function pageHead(title, subtitle, ...actions) {
  return el('div', { class: 'page-head' }, el('div', {}, el('h1', {}, title), subtitle ? el('div', { class: 'muted' }, subtitle) : null), el('div', { class: 'actions' }, ...actions));
}

let stop = () => {};

async function viewUpstreams() {
  const status = await api('status');
  const reload = status.reloadable ? el('button', { onclick: async () => {
    try { await api('reload', { method: 'POST', body: {} }); toast('Configuration reloaded'); render(); } catch (e) { toast(e.message, 'error'); }
  } }, 'Reload configuration') : null;
  const grid = el('div', { class: 'grid cards' });
  const fill = (st) => {
    clear(grid);
    if (!st.upstreams.length) grid.append(el('div', { class: 'panel empty' }, 'No upstreams configured.'));
    for (const u of st.upstreams) grid.append(upstreamCard(u));
  };
  fill(status);
  const collisions = status.collisions.length
    ? el('div', { class: 'panel panel-pad', style: 'margin-top:16px' }, el('h2', {}, 'Name collisions'),
      el('ul', {}, ...status.collisions.map((c) => el('li', {}, `${c.kind} `, el('code', {}, c.name), ` — claimed by ${c.upstreams.join(', ')}; not served under that name`))))
    : null;
  clear(main).append(...[pageHead('Upstreams', `${status.upstreams.length} configured · ${status.sessions} client sessions`, reload), grid, collisions].filter(Boolean));
  const t = setInterval(async () => {
    try { fill(await api('status')); } catch { /* next tick */ }
  }, 2000);
  stop = () => clearInterval(t);
}

function upstreamCard(u) {
  const act = (action) => async () => {
    try {
      await api(`upstreams/${encodeURIComponent(u.name)}/${action}`, { method: 'POST', body: {} });
      toast(`${u.name}: ${{ enable: 'enabled', disable: 'disabled', restart: 'restarted' }[action]}`);
      render();
    } catch (e) { toast(`${u.name}: ${e.message}`, 'error'); }
  };
  const enabled = u.state !== 'disabled';
  return el('section', { class: 'panel card', 'aria-label': `Upstream ${u.name}`, 'data-upstream': u.name },
    el('div', { class: 'card-head' },
      el('a', { class: 'card-title', href: `#/upstreams/${encodeURIComponent(u.name)}` }, u.name),
      el('span', { class: stateClass(u.state), 'data-testid': 'state' }, u.state)),
    el('dl', { class: 'kv' },
      el('dt', {}, 'transport'), el('dd', {}, u.transport, u.session === 'per-client' ? ' · per-client' : ''),
      el('dt', {}, 'server'), el('dd', {}, u.server?.name ? `${u.server.name} ${u.server.version || ''}` : '—'),
      el('dt', {}, 'protocol'), el('dd', {}, u.protocolVersion || '—'),
      el('dt', {}, 'prefix'), el('dd', {}, u.prefix ? el('code', {}, u.prefix) : el('span', { class: 'muted' }, 'none'))),
    el('div', { class: 'stats' },
      ...[['tools', u.tools], ['prompts', u.prompts], ['resources', u.resources], ['templates', u.resourceTemplates], ['in flight', u.inFlight], ['restarts', u.restarts]]
        .map(([k, v]) => el('div', { class: 'stat' }, el('b', {}, String(v ?? 0)), el('span', {}, k)))),
    u.error ? el('div', { class: 'err-text' }, u.error) : null,
    el('div', { class: 'actions' },
      enabled ? el('button', { onclick: act('disable'), 'data-testid': 'disable' }, 'Disable') : el('button', { onclick: act('enable'), class: 'primary', 'data-testid': 'enable' }, 'Enable'),
      el('button', { onclick: act('restart'), disabled: !enabled || undefined }, 'Restart')));
}

function annotations(a = {}) {
  const chips = [];
  if (a.readOnlyHint) chips.push(el('span', { class: 'chip ok' }, 'read-only'));
  if (a.destructiveHint) chips.push(el('span', { class: 'chip warn' }, 'destructive'));
  if (a.idempotentHint) chips.push(el('span', { class: 'chip' }, 'idempotent'));
  if (a.openWorldHint) chips.push(el('span', { class: 'chip' }, 'open world'));
  return chips;
}

function schemaDetails(label, schema) {
  return schema ? el('details', {}, el('summary', {}, label), el('pre', {}, pretty(schema))) : null;
}

async function viewUpstream(name) {
  const d = await api(`upstreams/${encodeURIComponent(name)}`);
  const tabs = [
    ['Tools', d.tools, (t) => el('div', { class: 'feature' },
      el('div', {}, el('span', { class: 'feature-name' }, t.name), t.original !== t.name ? el('span', { class: 'feature-orig' }, `  (upstream: ${t.original})`) : null),
      t.tool.title ? el('div', {}, t.tool.title) : null,
      t.tool.description ? el('div', { class: 'muted' }, t.tool.description) : null,
      el('div', {}, ...annotations(t.tool.annotations), t.tool.execution?.taskSupport && t.tool.execution.taskSupport !== 'forbidden' ? el('span', { class: 'chip' }, `task: ${t.tool.execution.taskSupport}`) : null),
      schemaDetails('Input schema', t.tool.inputSchema), schemaDetails('Output schema', t.tool.outputSchema),
      el('a', { href: `#/playground/tool/${encodeURIComponent(t.name)}`, class: 'small' }, 'Try it in the playground'))],
    ['Resources', d.resources, (r) => el('div', { class: 'feature' },
      el('div', {}, el('span', { class: 'feature-name' }, r.uri), r.original !== r.uri ? el('span', { class: 'feature-orig' }, `  (upstream: ${r.original})`) : null),
      el('div', {}, r.resource.title || r.resource.name, r.resource.mimeType ? el('span', { class: 'muted' }, ` · ${r.resource.mimeType}`) : null),
      r.resource.description ? el('div', { class: 'muted' }, r.resource.description) : null)],
    ['Templates', d.resourceTemplates, (r) => el('div', { class: 'feature' },
      el('div', {}, el('span', { class: 'feature-name' }, r.uriTemplate), r.original !== r.uriTemplate ? el('span', { class: 'feature-orig' }, `  (upstream: ${r.original})`) : null),
      el('div', {}, r.template.title || r.template.name),
      r.template.description ? el('div', { class: 'muted' }, r.template.description) : null)],
    ['Prompts', d.prompts, (p) => el('div', { class: 'feature' },
      el('div', {}, el('span', { class: 'feature-name' }, p.name), p.original !== p.name ? el('span', { class: 'feature-orig' }, `  (upstream: ${p.original})`) : null),
      p.prompt.description ? el('div', { class: 'muted' }, p.prompt.description) : null,
      (p.prompt.arguments || []).length ? el('div', { class: 'small' }, 'Arguments: ', ...(p.prompt.arguments || []).map((a) => el('code', {}, a.name + (a.required ? '*' : '') + ' '))) : null)],
  ];
  const body = el('div', { class: 'panel' });
  const tablist = el('div', { class: 'tabs', role: 'tablist' });
  const show = (i) => {
    [...tablist.children].forEach((b, j) => b.setAttribute('aria-selected', String(i === j)));
    const [, items, row] = tabs[i];
    clear(body).append(...(items.length ? items.map(row) : [el('div', { class: 'empty' }, 'None.')]));
  };
  tabs.forEach(([label, items], i) => tablist.append(el('button', { role: 'tab', onclick: () => show(i) }, `${label} (${items.length})`)));
  const info = el('div', { class: 'panel panel-pad', style: 'margin-bottom:16px' },
    el('dl', { class: 'kv' },
      el('dt', {}, 'state'), el('dd', {}, el('span', { class: stateClass(d.state) }, d.state), d.error ? el('span', { class: 'err-text' }, ' ', d.error) : null),
      el('dt', {}, 'transport'), el('dd', {}, `${d.transport} · ${d.session}`),
      el('dt', {}, 'server'), el('dd', {}, d.server?.name ? `${d.server.name} ${d.server.version || ''}` : '—'),
      el('dt', {}, 'protocol'), el('dd', {}, d.protocolVersion || '—'),
      el('dt', {}, 'capabilities'), el('dd', {}, Object.keys(d.capabilities || {}).join(', ') || '—'),
      d.instructions ? el('dt', {}, 'instructions') : null, d.instructions ? el('dd', {}, d.instructions) : null),
    (d.collisions || []).length ? el('p', { class: 'err-text' }, `Collisions: ${d.collisions.map((c) => c.name).join(', ')}`) : null);
  clear(main).append(pageHead(d.name, 'Upstream', el('a', { href: '#/upstreams' }, '← All upstreams')), info, ...(d.apps ? [appsCheck(d.apps)] : []), tablist, body);
  show(0);
}

// appsCheck shows the gateway's check of an upstream's MCP Apps (the
// official validator's static rules).
function appsCheck(a) {
  const findings = a.findings || [];
  const errors = findings.filter((f) => f.severity === 'error').length;
  const head = a.error
    ? el('span', { class: 'chip warn' }, `not checked: ${a.error}`)
    : errors ? el('span', { class: 'chip warn' }, `${errors} error${errors > 1 ? 's' : ''}`)
      : el('span', { class: 'chip ok' }, findings.length ? 'no errors' : 'passes the validator\u2019s static rules');
  return el('div', { class: 'panel panel-pad apps-check', 'data-testid': 'apps-check' },
    el('h2', {}, 'MCP Apps ', head),
    a.tools?.length ? el('div', { class: 'small' }, 'Tools with an app: ', ...a.tools.map((t) => el('code', {}, t + ' '))) : null,
    a.resources?.length ? el('div', { class: 'small' }, 'UI resources: ', ...a.resources.map((r) => el('code', {}, r + ' '))) : null,
    findings.length ? el('ul', { class: 'findings' }, ...findings.map((f) => el('li', {},
      el('span', { class: f.severity === 'error' ? 'chip warn' : 'chip' }, `${f.rule} ${f.severity}`), ' ', el('code', {}, f.subject), ' — ', f.message))) : null);
}

// appContext finds the upstream that serves an exposed tool, for its app:
// the app's view calls tools and reads resources under the upstream's own
// names, which the host maps to the gateway's.
async function appContext(toolName) {
  const st = await api('status');
  for (const u of st.upstreams) {
    const d = await api(`upstreams/${encodeURIComponent(u.name)}`);
    const t = d.tools.find((x) => x.name === toolName);
    if (t) return { upstream: d, tool: t, sandbox: st.appsSandbox };
  }
  return undefined;
}

let currentApp;

// The playground: tools, resources and prompts of the gateway, used as an
// MCP client would.
async function viewPlayground(kind = 'tool', selected) {
  clear(main).append(pageHead('Playground', 'A real MCP client of this gateway: what you do here is what a client does.'));
  let c;
  try {
    c = await mcp();
  } catch (e) {
    main.append(errorBlock(e));
    return;
  }
  const kinds = [['tool', 'Tools'], ['resource', 'Resources'], ['prompt', 'Prompts']];
  const tablist = el('div', { class: 'tabs', role: 'tablist' },
    ...kinds.map(([k, label]) => el('button', { role: 'tab', 'aria-selected': String(k === kind), onclick: () => { location.hash = `#/playground/${k}`; } }, label)));
  const listPanel = el('div', { class: 'panel' });
  const detail = el('div', { class: 'panel panel-pad', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Choose an item on the left.'));
  main.append(tablist, el('div', { class: 'play' }, listPanel, detail));

  let items = [];
  const load = async () => {
    if (kind === 'tool') items = await c.listAll('tools/list', 'tools');
    else if (kind === 'prompt') items = await c.listAll('prompts/list', 'prompts');
    else {
      const [res, tmpl] = await Promise.all([c.listAll('resources/list', 'resources'), c.listAll('resources/templates/list', 'resourceTemplates')]);
      items = [...res, ...tmpl.map((t) => ({ ...t, template: true }))];
    }
  };
  const key = (it) => (kind === 'resource' ? (it.uri || it.uriTemplate) : it.name);
  const search = el('input', { class: 'search', type: 'search', placeholder: `Filter ${kind}s…`, 'aria-label': `Filter ${kind}s` });
  const list = el('div', { class: 'list', role: 'list' });
  listPanel.append(el('div', { class: 'panel-pad', style: 'padding:10px' }, search), list);
  const fillList = () => {
    const q = search.value.toLowerCase();
    clear(list);
    for (const it of items) {
      const k = key(it);
      if (q && !(`${k} ${it.title || ''} ${it.description || ''}`.toLowerCase().includes(q))) continue;
      list.append(el('button', { class: 'list-item', role: 'listitem', 'aria-pressed': String(k === selected), 'data-name': k, onclick: () => select(k) },
        el('span', { class: 'li-name' }, k), it.description ? el('span', { class: 'li-desc' }, it.description) : null));
    }
    if (!list.children.length) list.append(el('div', { class: 'empty' }, 'Nothing here.'));
  };
  const select = (k) => {
    selected = k;
    history.replaceState(null, '', `#/playground/${kind}/${encodeURIComponent(k)}`);
    fillList();
    const it = items.find((x) => key(x) === k);
    if (it) showItem(c, kind, it, detail);
  };
  search.addEventListener('input', fillList);
  const refresh = async () => {
    await load();
    fillList();
  };
  await refresh();
  const onChange = () => refresh().catch(() => {});
  changeListeners.add(onChange);
  stop = () => changeListeners.delete(onChange);
  if (selected) select(selected);
}

// openApp renders the app of a tool about to be called, in out.
async function openApp(c, tool, appURI, args, out) {
  const ctx = await appContext(tool.name).catch(() => undefined);
  if (!ctx || !ctx.sandbox) {
    out.append(el('div', { class: 'banner' }, ctx ? 'This tool has an app, but the gateway runs without the apps sandbox (serve --apps-addr off).' : 'This tool has an app, but its upstream could not be found.'));
    return undefined;
  }
  const view = new AppView({
    client: c, api, confirm: ask, sandboxURL: ctx.sandbox, upstream: ctx.upstream,
    tool, original: ctx.tool.original, resourceURI: appURI, args,
    onClose: () => { if (currentApp === view) currentApp = undefined; },
  });
  currentApp = view;
  out.append(view.render());
  return view;
}

function showItem(c, kind, it, detail) {
  currentApp?.close('another item was chosen');
  clear(detail);
  const title = kind === 'resource' ? (it.uri || it.uriTemplate) : it.name;
  detail.append(el('h2', { class: 'mono' }, title));
  if (it.title) detail.append(el('div', {}, it.title));
  if (it.description) detail.append(el('p', { class: 'muted' }, it.description));
  const appURI = kind === 'tool' ? uiResourceOf(it) : '';
  if (kind === 'tool') detail.append(el('div', {}, ...annotations(it.annotations), appURI ? el('span', { class: 'chip app-chip', 'data-testid': 'app-chip' }, 'MCP App') : null));
  if (appURI) detail.append(el('p', { class: 'muted small' }, 'Calling this tool shows its app (', el('code', {}, appURI), ') in a sandbox, beside the result.'));
  let schema;
  if (kind === 'tool') schema = it.inputSchema;
  else if (kind === 'prompt') schema = promptSchema(it.arguments);
  else if (it.template) {
    const vars = [...(it.uriTemplate.matchAll(/\{[+#./;?&]?([^}]+)\}/g))].flatMap((m) => m[1].split(',').map((v) => v.replace(/\*$|:\d+$/, '')));
    schema = { type: 'object', properties: Object.fromEntries(vars.map((v) => [v, { type: 'string' }])), required: vars };
  }
  const f = schema ? buildForm(schema) : { form: el('div'), read: () => ({}) };
  const progress = el('div', { class: 'progress', hidden: true }, el('div'));
  const progressText = el('div', { class: 'muted small', 'aria-live': 'polite' });
  const out = el('div');
  const run = el('button', { class: 'primary', type: 'submit', 'data-testid': 'run' }, kind === 'tool' ? 'Call tool' : kind === 'prompt' ? 'Get prompt' : 'Read resource');
  const cancel = el('button', { type: 'button', disabled: true, 'data-testid': 'cancel' }, 'Cancel');
  let ctl;
  cancel.addEventListener('click', () => ctl?.abort());
  const go = async (ev) => {
    ev?.preventDefault();
    await currentApp?.close('the tool is called again');
    clear(out);
    let args;
    try {
      args = f.read();
    } catch (e) {
      out.append(errorBlock(e));
      return;
    }
    ctl = new AbortController();
    run.disabled = true;
    cancel.disabled = false;
    progress.hidden = false;
    progress.classList.add('indeterminate');
    progressText.textContent = '';
    const onProgress = (p) => {
      progress.classList.remove('indeterminate');
      const pct = p.total ? Math.min(100, (100 * p.progress) / p.total) : 50;
      progress.firstChild.style.width = `${pct}%`;
      progressText.textContent = `${p.message ? p.message + ' — ' : ''}${p.progress}${p.total ? ` of ${p.total}` : ''}`;
    };
    let view;
    try {
      if (kind === 'tool') {
        if (appURI) view = await openApp(c, it, appURI, args, out);
        const res = await c.request('tools/call', { name: it.name, arguments: args }, { onProgress, signal: ctl.signal });
        view?.toolResult(res);
        out.append(toolResult(res, it));
      } else if (kind === 'prompt') {
        const res = await c.request('prompts/get', { name: it.name, arguments: args }, { onProgress, signal: ctl.signal });
        out.append(promptResult(res));
      } else {
        let uri = it.uri;
        if (it.template) uri = it.uriTemplate.replace(/\{[+#./;?&]?([^}]+)\}/g, (_, v) => v.split(',').map((n) => encodeURIComponent(args[n.replace(/\*$|:\d+$/, '')] ?? '')).join(','));
        const res = await c.request('resources/read', { uri }, { signal: ctl.signal });
        out.append(readResult(res));
      }
    } catch (e) {
      view?.toolCancelled(e.name === 'AbortError' ? 'cancelled in the console' : `the call failed: ${e.message}`);
      out.append(e.name === 'AbortError' ? el('div', { class: 'banner error' }, 'Cancelled.') : errorBlock(e));
    } finally {
      run.disabled = false;
      cancel.disabled = true;
      progress.hidden = true;
    }
  };
  f.form.addEventListener('submit', go);
  f.form.append(el('div', { class: 'actions' }, run, cancel), progress, progressText);
  detail.append(f.form, out);
}

async function viewSessions() {
  const body = el('tbody');
  const fill = async () => {
    const list = await api('sessions');
    clear(body);
    if (!list.length) body.append(el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No client sessions.')));
    for (const s of list) {
      body.append(el('tr', {},
        el('td', { class: 'mono' }, s.id ? s.id.slice(0, 12) + '…' : '(stdio)'),
        el('td', {}, `${s.client?.name || '?'} ${s.client?.version || ''}`),
        el('td', {}, s.protocolVersion),
        el('td', {}, ago(s.started)),
        el('td', {}, String(s.inFlight))));
    }
  };
  await fill();
  clear(main).append(pageHead('Sessions', 'Live client sessions (clients of revision 2026-07-28 have none).'),
    el('div', { class: 'panel' }, el('table', {}, el('thead', {}, el('tr', {}, ...['Session', 'Client', 'Revision', 'Age', 'In flight'].map((h) => el('th', { scope: 'col' }, h)))), body)));
  const t = setInterval(() => fill().catch(() => {}), 2000);
  stop = () => clearInterval(t);
}

async function viewLogs() {
  const box = el('div', { class: 'logs', role: 'log', 'aria-live': 'off' });
  const filter = el('input', { class: 'search', type: 'search', placeholder: 'Filter…', 'aria-label': 'Filter log lines', style: 'max-width:320px' });
  const pause = el('button', { 'aria-pressed': 'false' }, 'Pause');
  let paused = false;
  pause.addEventListener('click', () => { paused = !paused; pause.textContent = paused ? 'Resume' : 'Pause'; pause.setAttribute('aria-pressed', String(paused)); });
  clear(main).append(pageHead('Logs', 'The gateway\u2019s log, live.', filter, pause), el('div', { class: 'panel' }, box));
  const line = (r) => {
    const attrs = Object.entries(r.attrs || {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    const row = el('div', { class: 'log' }, el('span', { class: 'muted' }, new Date(r.time).toLocaleTimeString()), el('span', { class: `lv-${r.level}` }, r.level), el('span', {}, r.message, ' ', el('span', { class: 'attrs' }, attrs)));
    row.dataset.text = `${r.level} ${r.message} ${attrs}`.toLowerCase();
    return row;
  };
  const applyFilter = () => {
    const q = filter.value.toLowerCase();
    for (const r of box.children) r.hidden = q && !r.dataset.text.includes(q);
  };
  filter.addEventListener('input', applyFilter);
  const ctl = new AbortController();
  stop = () => ctl.abort();
  const headers = {};
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    const resp = await fetch('/api/logs/stream', { headers, signal: ctl.signal });
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    await readSSE(resp.body, ({ data }) => {
      if (paused) return;
      const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 20;
      const row = line(JSON.parse(data));
      const q = filter.value.toLowerCase();
      row.hidden = q && !row.dataset.text.includes(q);
      box.append(row);
      while (box.children.length > 2000) box.firstChild.remove();
      if (atBottom) box.scrollTop = box.scrollHeight;
    }, ctl.signal);
  } catch (e) {
    if (!ctl.signal.aborted) box.append(errorBlock(e));
  }
}

// ---------- router ----------

async function render() {
  currentApp?.close('the console left the playground');
  stop();
  stop = () => {};
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const section = parts[0] || 'upstreams';
  document.querySelectorAll('[data-nav]').forEach((a) => (a.dataset.nav === section ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current')));
  try {
    if (section === 'upstreams' && parts[1]) await viewUpstream(parts[1]);
    else if (section === 'upstreams') await viewUpstreams();
    else if (section === 'playground') await viewPlayground(parts[1] || 'tool', parts.slice(2).join('/') || undefined);
    else if (section === 'sessions') await viewSessions();
    else if (section === 'logs') await viewLogs();
    else clear(main).append(el('p', {}, 'Not found. ', el('a', { href: '#/upstreams' }, 'Upstreams')));
  } catch (e) {
    clear(main).append(errorBlock(e));
  }
}

async function header() {
  try {
    const st = await api('status');
    document.getElementById('gw-name').textContent = [st.name !== 'switchboard' ? st.name : '', st.version ? (/^\d/.test(st.version) ? `v${st.version}` : st.version) : ''].filter(Boolean).join(' · ');
    const ready = st.upstreams.filter((u) => u.state === 'ready').length;
    clear(document.getElementById('gw-state')).append(
      el('span', { class: st.ready ? 'pill s-ready' : 'pill s-failed' }, st.ready ? 'ready' : 'not ready'),
      `${ready}/${st.upstreams.length} upstreams ready`);
  } catch { /* shown by the view */ }
}

window.addEventListener('hashchange', () => { render(); main.focus(); });
window.addEventListener('beforeunload', () => client?.close());
render();
header();
setInterval(header, 3000);
