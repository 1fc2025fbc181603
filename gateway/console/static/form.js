// Forms generated from JSON Schemas: a tool's input schema, an
// elicitation's requested schema, a prompt's arguments. buildForm returns
// the form element and read(), which returns the value or throws an Error
// naming the field that is wrong.

import { el } from './dom.js';

let seq = 0;
const uid = (p) => `${p}-${++seq}`;

// resolve follows a local $ref (#/$defs/X, #/definitions/X).
function resolve(schema, root) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 16; i++) {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    if (!m || !root?.[m[1]]?.[m[2]]) return s;
    s = { ...root[m[1]][m[2]], ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
  }
  return s || {};
}

// typeOf returns the schema's single type, or undefined for unions.
function typeOf(s) {
  if (Array.isArray(s.type)) {
    const t = s.type.filter((x) => x !== 'null');
    return t.length === 1 ? t[0] : undefined;
  }
  if (s.type) return s.type;
  if (s.properties) return 'object';
  if (s.enum) return 'enum';
  return undefined;
}

// options returns the choices of an enum-like schema: [{value, label}].
function options(s) {
  if (Array.isArray(s.enum)) {
    return s.enum.map((v, i) => ({ value: v, label: s.enumNames?.[i] ?? String(v) }));
  }
  const alts = s.oneOf || s.anyOf;
  if (Array.isArray(alts) && alts.length && alts.every((a) => a && 'const' in a)) {
    return alts.map((a) => ({ value: a.const, label: a.title ?? String(a.const) }));
  }
  if (s.type === 'array' && s.items) return options(s.items);
  return undefined;
}

function describe(s) {
  const bits = [];
  if (s.description) bits.push(s.description);
  const lim = [];
  if (s.minimum !== undefined) lim.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) lim.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) lim.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) lim.push(`< ${s.exclusiveMaximum}`);
  if (s.minLength !== undefined) lim.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) lim.push(`at most ${s.maxLength} characters`);
  if (s.pattern) lim.push(`pattern ${s.pattern}`);
  if (s.format) lim.push(s.format);
  if (lim.length) bits.push(`(${lim.join(', ')})`);
  return bits.join(' ');
}

// field builds the input for one schema; it returns {node, read}.
// read returns undefined for an empty optional value.
function field(name, schema, root, required, value, path) {
  const s = resolve(schema, root);
  const id = uid('f');
  const label = s.title || name;
  const help = describe(s);
  const head = (forId) => [
    el('label', { for: forId }, label, required ? el('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null),
    help ? el('span', { class: 'help', id: `${forId}-help` }, help) : null,
  ];
  const initial = value !== undefined ? value : s.default;
  const opts = options(s);
  const t = typeOf(s);

  if (opts && t !== 'array') {
    const sel = el('select', { id, 'aria-describedby': help ? `${id}-help` : undefined, required: required || undefined });
    if (!required) sel.append(el('option', { value: '' }, '—'));
    opts.forEach((o, i) => sel.append(el('option', { value: String(i), selected: JSON.stringify(o.value) === JSON.stringify(initial) || undefined }, o.label)));
    return {
      node: el('div', { class: 'field' }, ...head(id), sel),
      read: () => {
        if (sel.value === '') {
          if (required) throw new Error(`${path}: choose a value`);
          return undefined;
        }
        return opts[Number(sel.value)].value;
      },
    };
  }
  if (opts && t === 'array') {
    const boxes = opts.map((o) => {
      const cid = uid('c');
      const cb = el('input', { type: 'checkbox', id: cid, checked: Array.isArray(initial) && initial.some((v) => JSON.stringify(v) === JSON.stringify(o.value)) || undefined });
      return { cb, node: el('label', { class: 'check', for: cid }, cb, o.label), o };
    });
    return {
      node: el('fieldset', {}, el('legend', {}, label, required ? el('span', { class: 'req' }, '*') : null), help ? el('span', { class: 'help' }, help) : null, ...boxes.map((b) => b.node)),
      read: () => {
        const vals = boxes.filter((b) => b.cb.checked).map((b) => b.o.value);
        if (s.minItems !== undefined && vals.length < s.minItems) throw new Error(`${path}: choose at least ${s.minItems}`);
        if (s.maxItems !== undefined && vals.length > s.maxItems) throw new Error(`${path}: choose at most ${s.maxItems}`);
        return vals.length || required ? vals : undefined;
      },
    };
  }
  switch (t) {
    case 'boolean': {
      const cb = el('input', { type: 'checkbox', id, checked: initial === true || undefined });
      return {
        node: el('div', { class: 'field' }, el('label', { class: 'check', for: id }, cb, label, required ? el('span', { class: 'req' }, '*') : null), help ? el('span', { class: 'help' }, help) : null),
        read: () => cb.checked,
      };
    }
    case 'integer':
    case 'number': {
      const inp = el('input', {
        type: 'number', id, value: initial ?? '', step: t === 'integer' ? '1' : 'any',
        min: s.minimum ?? undefined, max: s.maximum ?? undefined, required: required || undefined,
        'aria-describedby': help ? `${id}-help` : undefined,
      });
      return {
        node: el('div', { class: 'field' }, ...head(id), inp),
        read: () => {
          if (inp.value === '') {
            if (required) throw new Error(`${path}: a number is required`);
            return undefined;
          }
          const n = Number(inp.value);
          if (!Number.isFinite(n) || (t === 'integer' && !Number.isInteger(n))) throw new Error(`${path}: not ${t === 'integer' ? 'an integer' : 'a number'}`);
          return n;
        },
      };
    }
    case 'string': {
      const type = { email: 'email', uri: 'url', url: 'url', date: 'date', 'date-time': 'datetime-local' }[s.format] || 'text';
      let v = initial ?? '';
      if (type === 'datetime-local' && v) v = String(v).replace(/Z$/, '').slice(0, 16);
      const long = (s.maxLength === undefined || s.maxLength > 200) && /description|text|content|body|message|prompt|query/i.test(name) && type === 'text';
      const inp = long
        ? el('textarea', { id, rows: 3, required: required || undefined, 'aria-describedby': help ? `${id}-help` : undefined }, String(v))
        : el('input', { type, id, value: v, required: required || undefined, minlength: s.minLength, maxlength: s.maxLength, pattern: s.pattern, 'aria-describedby': help ? `${id}-help` : undefined });
      if (long) inp.style.fontFamily = 'inherit';
      return {
        node: el('div', { class: 'field' }, ...head(id), inp),
        read: () => {
          let out = inp.value;
          if (out === '') {
            if (required) throw new Error(`${path}: a value is required`);
            return undefined;
          }
          if (type === 'datetime-local') out = new Date(out).toISOString();
          if (s.minLength !== undefined && out.length < s.minLength) throw new Error(`${path}: at least ${s.minLength} characters`);
          if (s.maxLength !== undefined && out.length > s.maxLength) throw new Error(`${path}: at most ${s.maxLength} characters`);
          if (s.pattern && !new RegExp(s.pattern, 'u').test(out)) throw new Error(`${path}: does not match ${s.pattern}`);
          return out;
        },
      };
    }
    case 'object': {
      if (!s.properties) break;
      const sub = objectFields(s, root, initial || {}, path);
      return {
        node: el('fieldset', {}, el('legend', {}, label, required ? el('span', { class: 'req' }, '*') : null), help ? el('span', { class: 'help' }, help) : null, ...sub.nodes),
        read: () => {
          const v = sub.read();
          return Object.keys(v).length || required ? v : undefined;
        },
      };
    }
    case 'array': {
      const items = s.items || {};
      const rows = el('div', { class: 'rows' });
      const readers = [];
      const add = (v) => {
        const f = field(`${name}[${readers.length}]`, items, root, true, v, `${path}[${readers.length}]`);
        const entry = { read: f.read };
        const rm = el('button', { type: 'button', class: 'danger', 'aria-label': `Remove item from ${label}` }, '×');
        const row = el('div', { class: 'array-row' }, f.node, rm);
        rm.addEventListener('click', () => {
          row.remove();
          readers.splice(readers.indexOf(entry), 1);
        });
        readers.push(entry);
        rows.append(row);
      };
      (Array.isArray(initial) ? initial : []).forEach(add);
      const addBtn = el('button', { type: 'button' }, `Add to ${label}`);
      addBtn.addEventListener('click', () => add(undefined));
      return {
        node: el('fieldset', {}, el('legend', {}, label, required ? el('span', { class: 'req' }, '*') : null), help ? el('span', { class: 'help' }, help) : null, rows, el('div', {}, addBtn)),
        read: () => {
          const vals = readers.map((r) => r.read());
          if (s.minItems !== undefined && vals.length < s.minItems) throw new Error(`${path}: at least ${s.minItems} items`);
          if (s.maxItems !== undefined && vals.length > s.maxItems) throw new Error(`${path}: at most ${s.maxItems} items`);
          return vals.length || required ? vals : undefined;
        },
      };
    }
  }
  // Anything else (unions, free-form values): JSON.
  const ta = el('textarea', { id, rows: 3, 'aria-describedby': help ? `${id}-help` : undefined }, initial !== undefined ? JSON.stringify(initial, null, 2) : '');
  return {
    node: el('div', { class: 'field' }, ...head(id), el('span', { class: 'help' }, 'JSON value'), ta),
    read: () => {
      if (ta.value.trim() === '') {
        if (required) throw new Error(`${path}: a value is required`);
        return undefined;
      }
      try { return JSON.parse(ta.value); } catch (e) { throw new Error(`${path}: not valid JSON (${e.message})`); }
    },
  };
}

function objectFields(s, root, values, path) {
  const req = new Set(s.required || []);
  const fields = Object.entries(s.properties || {}).map(([name, ps]) => ({ name, f: field(name, ps, root, req.has(name), values[name], path ? `${path}.${name}` : name) }));
  return {
    nodes: fields.map((x) => x.f.node),
    read: () => {
      const out = {};
      for (const { name, f } of fields) {
        const v = f.read();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
  };
}

// buildForm builds a form for an object schema. With inner set it builds
// a <div> instead of a <form>, to sit inside another form (a dialog's).
export function buildForm(schema, values = {}, inner = false) {
  const root = schema || {};
  const s = resolve(root, root);
  const form = el(inner ? 'div' : 'form', { class: 'schema-form', novalidate: inner ? undefined : true });
  if (!s.properties || Object.keys(s.properties).length === 0) {
    form.append(el('p', { class: 'muted small' }, 'No arguments.'));
    return { form, read: () => ({}) };
  }
  const obj = objectFields(s, root, values, '');
  form.append(...obj.nodes);
  return { form, read: obj.read };
}

// promptSchema turns a prompt's arguments into an object schema of strings.
export function promptSchema(args = []) {
  const properties = {};
  const required = [];
  for (const a of args) {
    properties[a.name] = { type: 'string', title: a.title || a.name, description: a.description };
    if (a.required) required.push(a.name);
  }
  return { type: 'object', properties, required };
}
