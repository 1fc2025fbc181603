// ts-oauth-client.mjs: an MCP client on the pinned TypeScript SDK
// (@modelcontextprotocol/sdk) that authorizes with OAuth through the SDK's
// own machinery (StreamableHTTPClientTransport + an OAuthClientProvider),
// so that Go tests can check Switchboard's resource server (package auth)
// and authorization server (package authserver) against the reference
// client. Run it with the pinned node:
//
//   node_modules/node/bin/node ts-oauth-client.mjs --url URL [options]
//
// It connects (authorizing when the server answers 401), lists the tools,
// calls one tool (default: echo), ends the session and prints one JSON
// document on stdout:
//
//   {"tools": [names], "result": CallToolResult,
//    "auth": {"clients": [...], "authorizations": [...],
//             "tokens": [...], "errors": [...]}}
//
// auth describes what the SDK did, without secrets: the client information
// it saved (after registration, or the metadata document URL it uses as
// client_id): client_id, token_endpoint_auth_method, grant_types and
// whether a secret came with it; each authorization
// request's scope, resource, code_challenge_method and whether the code came
// back; each token set saved (its scope and whether it has a refresh token).
//
// The authorization is headless: redirectToAuthorization GETs the
// authorization URL without following redirects, which works with servers
// that approve at once (authserver with AutoApprove, the conformance
// suite's). The redirect back to --redirect-url is read from the Location
// header and never requested, so nothing needs to listen there. The state
// and (when present, or advertised) the iss response parameter are checked.
// A server that shows a consent page is an error: no person is here.
//
// Options:
//   --url URL              MCP endpoint (Streamable HTTP), required
//   --scope S              scope for the client metadata, used by the SDK
//                          only when neither the challenge nor the protected
//                          resource metadata names one
//   --redirect-url URL     redirect URI (default http://127.0.0.1:8976/callback)
//   --client-name NAME     client_name for registration
//   --client-id ID         a pre-registered public client: no registration
//   --client-metadata-url URL
//                          a Client ID Metadata Document URL (https): the
//                          SDK uses it as client_id instead of registering
//                          when the server advertises
//                          client_id_metadata_document_supported
//   --refresh-grant        register with grant_types authorization_code and
//                          refresh_token (default: authorization_code only)
//   --no-auth              no authProvider: a protected server's 401 is fatal
//   --call NAME            tool to call (default echo)
//   --args JSON            its arguments (default {"text":"hello from the TS SDK"})
//   --max-authorizations N authorization round trips allowed (default 4)
//   --timeout MS           per-request timeout, default 30000
//
// Errors go to stderr (with "HTTP <status>" for transport errors), exit 1;
// usage errors exit 2.

import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const USAGE = `usage: ts-oauth-client.mjs --url URL [--scope S] [--redirect-url URL]
                          [--client-name NAME] [--client-id ID]
                          [--client-metadata-url URL]
                          [--refresh-grant] [--no-auth]
                          [--call NAME] [--args JSON] [--max-authorizations N]
                          [--timeout MS]`;

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = {
    redirectUrl: 'http://127.0.0.1:8976/callback',
    clientName: 'switchboard-ts-oauth-client',
    tool: 'echo',
    args: { text: 'hello from the TS SDK' },
    maxAuthorizations: 4,
    timeout: 30000,
  };
  const positive = (name, text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer`);
    return n;
  };
  const url = (name, text) => {
    try {
      return new URL(text);
    } catch {
      throw new UsageError(`${name}: not a URL: ${text}`);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--url':
        opts.url = url(arg, value());
        break;
      case '--scope':
        opts.scope = value();
        break;
      case '--redirect-url':
        opts.redirectUrl = url(arg, value()).href;
        break;
      case '--client-name':
        opts.clientName = value();
        break;
      case '--client-id':
        opts.clientId = value();
        break;
      case '--client-metadata-url':
        opts.clientMetadataUrl = url(arg, value()).href;
        break;
      case '--refresh-grant':
        opts.refreshGrant = true;
        break;
      case '--no-auth':
        opts.noAuth = true;
        break;
      case '--call':
        opts.tool = value();
        break;
      case '--args': {
        let parsed;
        try {
          parsed = JSON.parse(value());
        } catch (err) {
          throw new UsageError(`--args is not JSON: ${err.message}`);
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new UsageError('--args must be a JSON object');
        }
        opts.args = parsed;
        break;
      }
      case '--max-authorizations':
        opts.maxAuthorizations = positive(arg, value());
        break;
      case '--timeout':
        opts.timeout = positive(arg, value());
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!opts.help && opts.url === undefined) throw new UsageError('--url is required');
  return opts;
}

// HeadlessProvider is an OAuthClientProvider that keeps everything in
// memory and authorizes without a browser. The SDK calls
// redirectToAuthorization and then gives up on the request with an
// UnauthorizedError; the code obtained here waits in takeCode() for the
// caller to hand it to transport.finishAuth.
class HeadlessProvider {
  constructor(opts) {
    this._opts = opts;
    // A pre-registered client id is stored client information the SDK
    // uses instead of registering (and binds to the issuer on first use).
    this._clientInformation = opts.clientId !== undefined ? { client_id: opts.clientId } : undefined;
    this._tokens = undefined;
    this._codeVerifier = undefined;
    this._state = undefined;
    this._code = undefined;
    this._asMetadata = undefined;
    this.report = { clients: [], authorizations: [], tokens: [] };
  }

  get redirectUrl() {
    return this._opts.redirectUrl;
  }

  get clientMetadataUrl() {
    return this._opts.clientMetadataUrl;
  }

  get clientMetadata() {
    const md = {
      client_name: this._opts.clientName,
      redirect_uris: [this._opts.redirectUrl],
      grant_types: this._opts.refreshGrant ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
    if (this._opts.scope !== undefined) md.scope = this._opts.scope;
    return md;
  }

  state() {
    this._state = randomBytes(16).toString('base64url');
    return this._state;
  }

  clientInformation() {
    return this._clientInformation;
  }

  saveClientInformation(info) {
    this._clientInformation = info;
    this.report.clients.push({
      client_id: info.client_id,
      token_endpoint_auth_method: info.token_endpoint_auth_method,
      grant_types: info.grant_types,
      has_secret: typeof info.client_secret === 'string' && info.client_secret !== '',
    });
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
    this.report.tokens.push({
      scope: tokens.scope,
      token_type: tokens.token_type,
      expires_in: tokens.expires_in,
      refresh_token: typeof tokens.refresh_token === 'string' && tokens.refresh_token !== '',
    });
  }

  saveCodeVerifier(verifier) {
    this._codeVerifier = verifier;
  }

  codeVerifier() {
    if (this._codeVerifier === undefined) throw new Error('no PKCE code verifier saved');
    return this._codeVerifier;
  }

  // The SDK reports what discovery found; the authorization server's
  // issuer is what the iss response parameter must equal (RFC 9207).
  saveDiscoveryState(state) {
    this._asMetadata = state.authorizationServerMetadata;
  }

  takeCode() {
    const code = this._code;
    this._code = undefined;
    return code;
  }

  async redirectToAuthorization(authorizationUrl) {
    const q = authorizationUrl.searchParams;
    const entry = {
      scope: q.get('scope') ?? undefined,
      resource: q.get('resource') ?? undefined,
      code_challenge_method: q.get('code_challenge_method') ?? undefined,
      code_challenge: Boolean(q.get('code_challenge')),
      state: q.get('state') === this._state && this._state !== undefined,
      code: false,
    };
    this.report.authorizations.push(entry);
    if (this.report.authorizations.length > this._opts.maxAuthorizations) {
      throw new Error(`more than ${this._opts.maxAuthorizations} authorizations; giving up`);
    }
    const params = await this._authorize(authorizationUrl);
    const issuer = this._asMetadata?.issuer;
    const iss = params.get('iss');
    if (iss !== null ? iss !== issuer : this._asMetadata?.authorization_response_iss_parameter_supported === true) {
      throw new Error(`authorization response iss ${JSON.stringify(iss)} is not the issuer ${JSON.stringify(issuer)}`);
    }
    if (params.get('state') !== this._state) {
      throw new Error('authorization response state does not match the request');
    }
    const error = params.get('error');
    if (error !== null) {
      const desc = params.get('error_description');
      throw new Error(`authorization refused: ${error}${desc ? `: ${desc}` : ''}`);
    }
    const code = params.get('code');
    if (!code) throw new Error('authorization response has neither code nor error');
    entry.code = true;
    this._code = code;
  }

  // _authorize walks the authorization endpoint's redirects that stay on
  // its origin (at most 5) and returns the query of the one aimed at the
  // redirect URI, without requesting it.
  async _authorize(authorizationUrl) {
    const redirect = new URL(this._opts.redirectUrl);
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop <= 5; hop++) {
      const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(this._opts.timeout) });
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || !location) {
        throw new Error(
          `the authorization endpoint answered HTTP ${response.status} without a redirect ` +
            '(a consent or login page?); this client only authorizes against servers that approve at once',
        );
      }
      const next = new URL(location, url);
      if (next.origin === redirect.origin && next.pathname === redirect.pathname) {
        return next.searchParams;
      }
      if (next.origin !== authorizationUrl.origin) {
        throw new Error(`the authorization endpoint redirected to ${next.origin}, neither itself nor the redirect URI`);
      }
      url = next;
    }
    throw new Error('too many redirects at the authorization endpoint');
  }
}

// withAuthorization runs op; when the SDK stops it with an
// UnauthorizedError after the provider obtained a code, the code is handed
// to finishAuth (the token request) and op runs again.
async function withAuthorization(provider, op, finish) {
  for (;;) {
    try {
      return await op();
    } catch (err) {
      const code = err instanceof UnauthorizedError ? provider?.takeCode() : undefined;
      if (code === undefined) throw err;
      await finish(code);
    }
  }
}

async function main(argv) {
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const requestOptions = { timeout: opts.timeout };
  const provider = opts.noAuth ? undefined : new HeadlessProvider(opts);
  const errors = [];
  let client;
  let transport;
  const output = {};
  try {
    // A failed initialize closes the client, so each attempt to connect
    // gets a new client and transport; the provider (and its tokens) stays.
    let pending;
    await withAuthorization(
      provider,
      async () => {
        client = new Client({ name: opts.clientName, version: '1.0.0' }, { capabilities: {} });
        client.onerror = (err) => errors.push(`${err?.message ?? err}`);
        transport = new StreamableHTTPClientTransport(opts.url, { authProvider: provider });
        pending = transport;
        await client.connect(transport, requestOptions);
      },
      (code) => pending.finishAuth(code),
    );
    // Later requests run on the connected session; an authorization in
    // the middle of it (step-up after 403 insufficient_scope) continues on
    // the same transport.
    const finish = (code) => transport.finishAuth(code);
    const tools = [];
    let cursor;
    for (let page = 0; ; page++) {
      if (page >= 1000) throw new Error('tools/list: more than 1000 pages');
      const result = await withAuthorization(
        provider,
        () => client.listTools(cursor === undefined ? {} : { cursor }, requestOptions),
        finish,
      );
      tools.push(...result.tools.map((t) => t.name));
      cursor = result.nextCursor;
      if (cursor === undefined || cursor === null) break;
    }
    output.tools = tools;
    output.result = await withAuthorization(
      provider,
      () => client.callTool({ name: opts.tool, arguments: opts.args }, undefined, requestOptions),
      finish,
    );
  } finally {
    if (transport !== undefined && transport.sessionId !== undefined) {
      try {
        await transport.terminateSession();
      } catch (err) {
        process.stderr.write(`ts-oauth-client: ending the session: ${err?.message ?? err}\n`);
      }
    }
    await client?.close().catch(() => {});
    if (provider !== undefined) {
      process.stderr.write(`ts-oauth-client: auth ${JSON.stringify(provider.report)}\n`);
    }
  }
  if (provider !== undefined) output.auth = { ...provider.report, errors };
  await new Promise((resolve, reject) =>
    process.stdout.write(JSON.stringify(output) + '\n', (err) => (err ? reject(err) : resolve())),
  );
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`ts-oauth-client: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    let message = `${err?.message ?? err}`;
    if (err instanceof StreamableHTTPError) message += ` (HTTP ${err.code})`;
    else if (typeof err?.code === 'number') message += ` (code ${err.code})`;
    for (let cause = err?.cause, depth = 0; cause && depth < 5; cause = cause.cause, depth++) {
      message += `: ${cause.message ?? cause}`;
    }
    process.stderr.write(`ts-oauth-client: ${message}\n`);
    process.exit(1);
  },
);
