// Rendering of MCP results: tool results (content blocks, structured
// content beside the output schema, isError), resource contents and
// prompt messages.

import { el, pretty } from './dom.js';

const safeMime = (m, kind) => (typeof m === 'string' && /^[a-z]+\/[a-z0-9.+-]+$/i.test(m) && m.startsWith(kind + '/') ? m : `${kind}/png`);

function resourceContents(r) {
  const head = el('div', { class: 'block-kind' }, 'resource ', el('span', { class: 'mono' }, r.uri || ''), r.mimeType ? ` · ${r.mimeType}` : '');
  if (typeof r.text === 'string') return el('div', { class: 'block' }, head, el('pre', {}, r.text));
  if (typeof r.blob === 'string') {
    const bytes = Math.floor(r.blob.length * 3 / 4);
    const mime = r.mimeType || 'application/octet-stream';
    let body;
    if (/^image\//.test(mime)) body = el('img', { src: `data:${safeMime(mime, 'image')};base64,${r.blob}`, alt: r.uri || 'image' });
    else body = el('a', { href: `data:application/octet-stream;base64,${r.blob}`, download: (r.uri || 'resource').split('/').pop() || 'resource' }, `Download ${bytes} bytes`);
    return el('div', { class: 'block' }, head, body);
  }
  return el('div', { class: 'block' }, head, el('pre', {}, pretty(r)));
}

export function contentBlock(c) {
  switch (c?.type) {
    case 'text':
      return el('div', { class: 'block' }, el('div', { class: 'block-kind' }, 'text'), el('pre', {}, c.text));
    case 'image':
      return el('div', { class: 'block' }, el('div', { class: 'block-kind' }, `image · ${c.mimeType || ''}`), el('img', { src: `data:${safeMime(c.mimeType, 'image')};base64,${c.data}`, alt: 'image result' }));
    case 'audio':
      return el('div', { class: 'block' }, el('div', { class: 'block-kind' }, `audio · ${c.mimeType || ''}`), el('audio', { controls: true, src: `data:${safeMime(c.mimeType, 'audio')};base64,${c.data}` }));
    case 'resource':
      return resourceContents(c.resource || {});
    case 'resource_link':
      return el('div', { class: 'block' }, el('div', { class: 'block-kind' }, 'resource link'),
        el('div', {}, el('span', { class: 'mono' }, c.uri), c.name ? ` — ${c.name}` : ''),
        c.description ? el('div', { class: 'muted small' }, c.description) : null);
    default:
      return el('div', { class: 'block' }, el('div', { class: 'block-kind' }, c?.type || 'content'), el('pre', {}, pretty(c)));
  }
}

// toolResult renders a tools/call result; tool is the tool's definition.
export function toolResult(res, tool) {
  const out = el('div', { class: 'result', 'data-testid': 'result' });
  out.append(res.isError
    ? el('div', { class: 'banner error', role: 'alert' }, 'The tool reported an error (isError)')
    : el('div', { class: 'banner ok' }, 'Result'));
  for (const c of res.content || []) out.append(contentBlock(c));
  if (res.structuredContent !== undefined) {
    const sc = el('div', { class: 'block' }, el('div', { class: 'block-kind' }, 'structured content'), el('pre', {}, pretty(res.structuredContent)));
    if (tool?.outputSchema) {
      out.append(el('div', { class: 'split' }, sc, el('div', { class: 'block' }, el('div', { class: 'block-kind' }, 'output schema'), el('pre', {}, pretty(tool.outputSchema)))));
    } else {
      out.append(sc);
    }
  }
  return out;
}

export function readResult(res) {
  const out = el('div', { class: 'result', 'data-testid': 'result' });
  for (const c of res.contents || []) out.append(resourceContents(c));
  if (!(res.contents || []).length) out.append(el('p', { class: 'muted' }, 'No contents.'));
  return out;
}

export function promptResult(res) {
  const out = el('div', { class: 'result', 'data-testid': 'result' });
  if (res.description) out.append(el('p', { class: 'muted' }, res.description));
  for (const m of res.messages || []) {
    out.append(el('div', { class: 'msg' }, el('div', { class: 'msg-role' }, m.role), contentBlock(m.content)));
  }
  return out;
}

export function errorBlock(e) {
  return el('div', { class: 'banner error', role: 'alert' }, e.code !== undefined ? `Error ${e.code}: ${e.message}` : String(e.message || e));
}
