// The sandbox proxy of the console's MCP Apps host. It runs on its own
// origin (serve --apps-addr), framed by the console, and frames the app's
// view: it loads the view's HTML into an inner iframe of its own origin
// (the Content-Security-Policy of this page, built by the gateway from the
// view's declared domains, applies to the view too) and relays JSON-RPC
// messages between the console (its parent) and the view, except the
// ui/notifications/sandbox-* ones, which are its own.
(() => {
  'use strict';
  const params = new URLSearchParams(location.search);
  const HOST = params.get('host');
  const OWN = location.origin;
  if (window.self === window.top || !HOST) {
    document.body.textContent = 'This page is the sandbox of the Switchboard console\u2019s MCP Apps; it works only inside the console.';
    return;
  }
  // The console must not be reachable from here: the frame is
  // cross-origin, so touching it throws.
  try {
    void window.parent.document;
    document.body.textContent = 'The sandbox is not isolated from its host; refusing to load apps.';
    return;
  } catch (e) { /* expected: a SecurityError */ }

  const inner = document.createElement('iframe');
  inner.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
  inner.setAttribute('title', 'MCP App view');
  document.body.appendChild(inner);

  const PERMS = { camera: 'camera', microphone: 'microphone', geolocation: 'geolocation', clipboardWrite: 'clipboard-write' };
  const SANDBOX_TOKENS = new Set(['allow-scripts', 'allow-same-origin', 'allow-forms', 'allow-modals', 'allow-popups', 'allow-downloads']);

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (ev.source === window.parent) {
      if (ev.origin !== HOST) return;
      if (!m || m.jsonrpc !== '2.0') return;
      if (m.method === 'ui/notifications/sandbox-resource-ready') {
        const p = m.params || {};
        if (typeof p.sandbox === 'string') {
          // The host may narrow the view's sandbox, not open it further.
          inner.setAttribute('sandbox', p.sandbox.split(/\s+/).filter((t) => SANDBOX_TOKENS.has(t)).join(' '));
        }
        const allow = Object.keys(p.permissions || {}).filter((k) => PERMS[k]).map((k) => PERMS[k]).join('; ');
        if (allow) inner.setAttribute('allow', allow);
        if (typeof p.html === 'string') {
          // document.write keeps the view on this origin (and under this
          // page's CSP); srcdoc would too, but breaks WebGL canvases.
          const doc = inner.contentDocument;
          doc.open();
          doc.write(p.html);
          doc.close();
        }
        return;
      }
      if (typeof m.method === 'string' && m.method.startsWith('ui/notifications/sandbox-')) return;
      inner.contentWindow && inner.contentWindow.postMessage(m, '*');
      return;
    }
    if (ev.source === inner.contentWindow) {
      if (ev.origin !== OWN && ev.origin !== 'null') return;
      if (!m || m.jsonrpc !== '2.0') return;
      if (typeof m.method === 'string' && m.method.startsWith('ui/notifications/sandbox-')) return;
      window.parent.postMessage(m, HOST);
    }
  });
  window.parent.postMessage({ jsonrpc: '2.0', method: 'ui/notifications/sandbox-proxy-ready', params: {} }, HOST);
})();
