// An OpenID provider that behaves like Microsoft Entra ID where Convene
// depends on it, for tests that must not use Convene's own issuer. The
// OAuth and OpenID work (authorization codes, PKCE, token signing, refresh
// token rotation, discovery, JWKS) is node-oidc-provider's, a certified
// OpenID provider Convene did not write; this file only configures it and
// adds the parts of Entra's behaviour that differ from plain OpenID:
//
// - Tenants and their issuers. Each tenant is one provider whose issuer is
//   `{base}/{tenant id}/v2.0` and whose endpoints are
//   `{base}/{tenant id}/oauth2/v2.0/{authorize,token}`. The multi-tenant
//   authority `{base}/organizations/v2.0` publishes the issuer template
//   `{base}/{tenantid}/v2.0` and sends each person to their home tenant
//   (by the domain of the user name), as Entra's home realm discovery does.
//   https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
//   (section "Find your app's OpenID configuration document URI").
// - One audience per access token, chosen by the scopes' resource prefix
//   (`https://graph.microsoft.com/Chat.ReadWrite` is for Graph); scopes of
//   several resources may be consented in one authorize request, but a
//   token request naming two resources fails with AADSTS28000.
//   https://learn.microsoft.com/entra/identity-platform/scopes-oidc
//   ("Requesting consent for multiple resources": a token is for one
//   resource; the refresh token redeems for the others).
// - Claims: `tid`, `oid`, `preferred_username`, `name` in ID tokens;
//   `scp` (bare permission names), `azp`, `tid`, `oid` in access tokens; a
//   custom API's tokens carry the application id as `aud`.
//   https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
//   https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
// - Loopback redirect URIs match with any port (native clients).
//   https://learn.microsoft.com/entra/identity-platform/reply-url#localhost-exceptions
// - Consent. A refresh token request for a resource nobody has consented
//   to answers `invalid_grant` with error code 65001 and `suberror`
//   `consent_required`; the refresh token stays valid. An interactive
//   sign-in shows a consent page for what is not yet consented.
//   https://learn.microsoft.com/entra/identity-platform/reference-error-codes
//   (AADSTS65001) and .../msal-android-handling-exceptions ("suberror").
// - `prompt=select_account` shows the account choice (here: the sign-in
//   form again, since this provider keeps no accounts in the browser).
//   https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
//
// Usage: node entra-op.mjs CONFIG.json; prints `listening on URL` once ready.
// CONFIG: { clientId, tenants: [{ id, domain, users: [{ oid, username,
// name, password }], consented: [resource keys an administrator approved
// for everyone] }] }. Resource keys: "api", "acs", "graph".
// Test controls, on loopback only: GET /test/requests (what the clients
// asked), POST /test/consent {tenant, username, resource, granted}.

import http from 'node:http';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import querystring from 'node:querystring';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const clientId = config.clientId;

// The resources a token can be for, keyed as the config names them.
const RESOURCES = {
  api: {
    indicator: `api://${clientId}`,
    // Entra's v2.0 tokens for an app's own API carry its application id.
    audience: clientId,
    permissions: ['Convene.Use'],
    bare: false,
  },
  acs: {
    indicator: 'https://auth.msft.communication.azure.com',
    audience: 'https://auth.msft.communication.azure.com',
    permissions: ['Teams.ManageCalls', 'Teams.ManageChats'],
    bare: false,
  },
  graph: {
    indicator: 'https://graph.microsoft.com',
    audience: 'https://graph.microsoft.com',
    permissions: ['Chat.Read', 'Chat.ReadWrite', 'Presence.Read', 'Presence.Read.All',
      'User.Read', 'User.ReadBasic.All'],
    // Graph is Entra's default resource: `User.Read` means Graph's.
    bare: true,
  },
};
const OPENID_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The resource key of one scope, or null for an OpenID scope. */
function resourceOf(scope) {
  if (OPENID_SCOPES.has(scope)) return null;
  for (const [key, resource] of Object.entries(RESOURCES)) {
    const prefix = `${resource.indicator}/`;
    if (scope.startsWith(prefix) && resource.permissions.includes(scope.slice(prefix.length))) {
      return key;
    }
    if (resource.bare && resource.permissions.includes(scope)) return key;
  }
  return undefined;
}

function resourcesOf(scopeParam) {
  const keys = new Set();
  const unknown = [];
  for (const scope of (scopeParam || '').split(' ').filter(Boolean)) {
    const key = resourceOf(scope);
    if (key === undefined) unknown.push(scope);
    else if (key) keys.add(key);
  }
  return { keys: [...keys], unknown };
}

const fullScope = (key, permission) => `${RESOURCES[key].indicator}/${permission}`;

// Consent: per tenant, what an administrator approved for everyone, and
// per person what they approved themselves.
const consent = new Map(); // `${tenant}|${oid}` -> Set of resource keys
function consented(tenant, oid, key) {
  return tenant.consented.includes(key) || (consent.get(`${tenant.id}|${oid}`)?.has(key) ?? false);
}
function setConsent(tenant, oid, key, granted) {
  const id = `${tenant.id}|${oid}`;
  if (!consent.has(id)) consent.set(id, new Set());
  if (granted) consent.get(id).add(key);
  else {
    consent.get(id).delete(key);
    tenant.consented = tenant.consented.filter((k) => k !== key);
  }
}

const seen = []; // what clients asked, for tests to check
const tenants = config.tenants.map((t) => ({ consented: [], ...t }));
const tenantById = new Map(tenants.map((t) => [t.id, t]));
const tenantOfUser = (username) => tenants.find(
  (t) => t.users.some((u) => u.username.toLowerCase() === String(username).toLowerCase()),
) || tenants.find((t) => String(username).toLowerCase().endsWith(`@${t.domain}`));

// One signing key for every tenant, as Entra signs for all tenants with a
// common key set.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(title, body) {
  return { page: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>` };
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, {
    'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers,
  });
  res.end(body);
}

function entraError(res, status, error, code, description, extra = {}) {
  send(res, status, 'application/json', JSON.stringify({
    error,
    error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${crypto.randomUUID()}\r\nCorrelation ID: ${crypto.randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date().toISOString(),
    trace_id: crypto.randomUUID(),
    correlation_id: crypto.randomUUID(),
    ...extra,
  }));
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function makeProvider(base, tenant) {
  const issuer = `${base}/${tenant.id}/v2.0`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/', 'http://localhost/'],
    }],
    jwks: { keys: [signingKey] },
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      jwks: '/discovery/v2.0/keys',
      userinfo: '/oidc/userinfo',
    },
    scopes: [...OPENID_SCOPES],
    claims: { openid: ['sub', 'tid', 'oid'], profile: ['name', 'preferred_username'] },
    // Entra puts the profile claims into the ID token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Entra infers the resource from the scopes; a request for
        // several (authorize) consents to all of them.
        defaultResource(ctx, _client, oneOf) {
          const { keys } = resourcesOf(ctx.oidc.params.scope);
          const indicators = keys.map((k) => RESOURCES[k].indicator);
          if (oneOf) return indicators.find((i) => oneOf.includes(i)) ?? oneOf;
          return indicators.length === 1 ? indicators[0] : indicators;
        },
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator) {
          const entry = Object.values(RESOURCES).find((r) => r.indicator === indicator);
          if (!entry) throw new errors.InvalidTarget();
          return {
            scope: entry.permissions.map((p) => `${entry.indicator}/${p}`).join(' '),
            audience: entry.audience,
            accessTokenTTL: config.accessTokenSeconds ?? 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async extraTokenClaims(ctx, token) {
      const user = tenant.users.find((u) => u.oid === token.accountId);
      if (!user) return undefined;
      const scp = [...token.scopes].map((s) => s.slice(s.lastIndexOf('/') + 1)).filter((s) => !OPENID_SCOPES.has(s));
      return { scp: scp.join(' '), tid: tenant.id, oid: user.oid, azp: clientId, name: user.name, preferred_username: user.username, ver: '2.0' };
    },
    async findAccount(_ctx, id) {
      const user = tenant.users.find((u) => u.oid === id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, tid: tenant.id, oid: user.oid, name: user.name, preferred_username: user.username }),
      };
    },
    interactions: { url: (_ctx, interaction) => `/${tenant.id}/interaction/${interaction.uid}` },
    ttl: { RefreshToken: 90 * 24 * 3600, Session: 3600, Interaction: 600, Grant: 90 * 24 * 3600 },
    // Entra rotates refresh tokens on every use.
    rotateRefreshToken: true,
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = html('Sign-in error', `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`).page;
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('entra-op server_error', err));
  return provider;
}

// --- interaction pages: sign-in and consent ---

async function interaction(req, res, tenant, provider, rest) {
  const [uid, action] = rest;
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  const { prompt, params } = details;
  if (prompt.name === 'login') {
    if (req.method === 'POST' && action === 'login') {
      const form = querystring.parse(await readBody(req));
      const user = tenant.users.find((u) => u.username.toLowerCase() === String(form.username).toLowerCase());
      if (!user) {
        return loginPage(res, uid, tenant, form.username, 'AADSTS50034: The user account does not exist in this organisation.');
      }
      if (user.password !== form.password) {
        return loginPage(res, uid, tenant, form.username, 'AADSTS50126: Invalid username or password.');
      }
      return provider.interactionFinished(req, res, { login: { accountId: user.oid } }, { mergeWithLastSubmission: false });
    }
    return loginPage(res, uid, tenant, params.login_hint ?? '', null);
  }
  if (prompt.name === 'consent') {
    const oid = details.session.accountId;
    const { keys } = resourcesOf(params.scope);
    const missing = keys.filter((k) => !consented(tenant, oid, k));
    if (missing.length && !(req.method === 'POST' && action === 'consent')) {
      return consentPage(res, uid, missing);
    }
    for (const key of missing) setConsent(tenant, oid, key, true);
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: oid, clientId: params.client_id });
    grant.addOIDCScope([...OPENID_SCOPES].join(' '));
    for (const key of keys) {
      grant.addResourceScope(RESOURCES[key].indicator, RESOURCES[key].permissions.map((p) => fullScope(key, p)).join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return send(res, 400, 'text/plain', `unknown prompt ${prompt.name}`);
}

function loginPage(res, uid, tenant, username, problem) {
  const { page } = html(`Sign in to ${tenant.domain}`, `
${problem ? `<p class="error">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/${tenant.id}/interaction/${uid}/login">
<input type="text" name="username" value="${escapeHtml(username ?? '')}">
<input type="password" name="password">
<button type="submit">Sign in</button>
</form>`);
  send(res, 200, 'text/html', page);
}

function consentPage(res, uid, missing) {
  const tenantPath = res.req.url.split('/interaction/')[0];
  const list = missing.flatMap((k) => RESOURCES[k].permissions.map((p) => `<li>${fullScope(k, p)}</li>`)).join('');
  const { page } = html('Permissions requested', `
<p>Convene asks for these permissions:</p><ul>${list}</ul>
<form method="post" action="${tenantPath}/interaction/${uid}/consent">
<input type="hidden" name="accept" value="yes">
<button type="submit">Accept</button>
</form>`);
  send(res, 200, 'text/html', page);
}

// --- the token endpoint's Entra rules, in front of the provider ---

async function tokenRequest(req, res, tenant, body) {
  const provider = providers.get(tenant.id);
  const form = querystring.parse(body);
  const { keys, unknown } = resourcesOf(form.scope);
  seen.push({ endpoint: 'token', tenant: tenant.id, grant_type: form.grant_type, scope: form.scope ?? '' });
  if (unknown.length) {
    return entraError(res, 400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${unknown.join(' ')} is not valid.`);
  }
  if (keys.length > 1) {
    return entraError(res, 400, 'invalid_request', 28000, `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${form.scope} is not valid.`);
  }
  if (form.grant_type === 'refresh_token' && keys.length === 1) {
    const token = await provider.RefreshToken.find(String(form.refresh_token ?? ''));
    if (token && !consented(tenant, token.accountId, keys[0])) {
      return entraError(res, 400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.`, { suberror: 'consent_required' });
    }
  }
  // Entra picks the resource from the scopes; RFC 8707, which the
  // provider speaks, names it in `resource`. The provider takes an
  // already-read body from `req.body`.
  req.body = keys.length === 1 && !form.resource
    ? `${body}&${querystring.stringify({ resource: RESOURCES[keys[0]].indicator })}`
    : body;
  req.url = '/oauth2/v2.0/token';
  req.originalUrl = `/${tenant.id}/oauth2/v2.0/token`;
  return provider.callback()(req, res);
}

// --- routing ---

const providers = new Map();
let base;

function organizationsDiscovery() {
  return {
    issuer: `${base}/{tenantid}/v2.0`,
    authorization_endpoint: `${base}/organizations/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/organizations/oauth2/v2.0/token`,
    jwks_uri: `${base}/organizations/discovery/v2.0/keys`,
    response_types_supported: ['code'],
    scopes_supported: [...OPENID_SCOPES],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    tenant_region_scope: null,
  };
}

/** Which tenant a code or refresh token belongs to. */
async function tenantOfGrant(form) {
  for (const [id, provider] of providers) {
    const found = form.grant_type === 'authorization_code'
      ? await provider.AuthorizationCode.find(String(form.code ?? ''))
      : await provider.RefreshToken.find(String(form.refresh_token ?? ''));
    if (found) return tenantById.get(id);
  }
  return null;
}

async function authorizeRequest(req, res, url, tenant) {
  const params = Object.fromEntries(url.searchParams);
  seen.push({ endpoint: 'authorize', tenant: tenant?.id ?? 'organizations', scope: params.scope ?? '', prompt: params.prompt ?? '', login_hint: params.login_hint ?? '' });
  const { unknown } = resourcesOf(params.scope);
  if (unknown.length) {
    return entraError(res, 400, 'invalid_scope', 70011, `The scope ${unknown.join(' ')} is not valid.`);
  }
  const prompts = new Set((params.prompt ?? '').split(' ').filter(Boolean));
  if (prompts.delete('select_account')) {
    // No accounts are remembered in the browser: choosing one is signing in.
    prompts.add('login');
  }
  if ((params.scope ?? '').split(' ').includes('offline_access')) {
    // Entra issues a refresh token whenever offline_access is asked for;
    // oidc-provider follows OpenID's rule that it also needs
    // prompt=consent. The consent step passes by itself when everything
    // asked for is consented already.
    prompts.add('consent');
  }
  if (prompts.size) url.searchParams.set('prompt', [...prompts].join(' '));
  if (!tenant) {
    const hint = params.login_hint ?? (req.method === 'POST' ? querystring.parse(await readBody(req)).username : undefined);
    const home = hint ? tenantOfUser(hint) : undefined;
    if (!home) {
      const hidden = [...url.searchParams].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
      const { page } = html('Sign in', `<form method="post" action="/organizations/oauth2/v2.0/authorize?${url.searchParams}">${hidden}<input type="text" name="username"><button type="submit">Next</button></form>`);
      return send(res, 200, 'text/html', page);
    }
    if (hint) url.searchParams.set('login_hint', hint);
    return send(res, 302, 'text/plain', '', { location: `/${home.id}/oauth2/v2.0/authorize?${url.searchParams}` });
  }
  req.url = `/oauth2/v2.0/authorize?${url.searchParams}`;
  req.originalUrl = `/${tenant.id}${req.url}`;
  return providers.get(tenant.id).callback()(req, res);
}

async function route(req, res) {
  const url = new URL(req.url, base);
  const segments = url.pathname.split('/').filter(Boolean);
  if (segments[0] === 'test') return testControl(req, res, segments[1]);
  if (segments[0] === 'organizations') {
    const rest = segments.slice(1).join('/');
    if (rest === 'v2.0/.well-known/openid-configuration') return send(res, 200, 'application/json', JSON.stringify(organizationsDiscovery()));
    if (rest === 'discovery/v2.0/keys') {
      const { d, p, q, dp, dq, qi, ...publicKey } = signingKey;
      return send(res, 200, 'application/json', JSON.stringify({ keys: [publicKey] }));
    }
    if (rest === 'oauth2/v2.0/authorize') return authorizeRequest(req, res, url, null);
    if (rest === 'oauth2/v2.0/token' && req.method === 'POST') {
      const body = await readBody(req);
      const tenant = await tenantOfGrant(querystring.parse(body));
      if (!tenant) return entraError(res, 400, 'invalid_grant', 9002313, 'Invalid request. The code or refresh token is malformed or not valid.');
      return tokenRequest(req, res, tenant, body);
    }
    return send(res, 404, 'text/plain', 'not found');
  }
  const tenant = tenantById.get(segments[0]);
  if (!tenant) return entraError(res, 400, 'invalid_request', 90002, `Tenant '${segments[0]}' not found.`);
  const provider = providers.get(tenant.id);
  const rest = segments.slice(1);
  if (rest.join('/') === 'v2.0/.well-known/openid-configuration') {
    req.url = '/.well-known/openid-configuration';
  } else if (rest[0] === 'interaction') {
    return interaction(req, res, tenant, provider, rest.slice(1));
  } else if (rest.join('/') === 'oauth2/v2.0/authorize') {
    return authorizeRequest(req, res, url, tenant);
  } else if (rest.join('/') === 'oauth2/v2.0/token' && req.method === 'POST') {
    return tokenRequest(req, res, tenant, await readBody(req));
  } else {
    req.url = `/${rest.join('/')}${url.search}`;
  }
  req.originalUrl = `/${tenant.id}${req.url}`;
  return provider.callback()(req, res);
}

async function testControl(req, res, what) {
  if (what === 'requests') return send(res, 200, 'application/json', JSON.stringify(seen));
  if (what === 'consent' && req.method === 'POST') {
    const { tenant: tid, username, resource, granted } = JSON.parse(await readBody(req));
    const tenant = tenantById.get(tid);
    const user = tenant?.users.find((u) => u.username === username);
    if (!user || !RESOURCES[resource]) return send(res, 400, 'text/plain', 'no such tenant, user or resource');
    setConsent(tenant, user.oid, resource, granted);
    return send(res, 204, 'text/plain', '');
  }
  return send(res, 404, 'text/plain', 'not found');
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err) => {
    console.error('entra-op error', err);
    if (!res.headersSent) send(res, 500, 'text/plain', 'server error');
  });
});
server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  for (const tenant of tenants) providers.set(tenant.id, makeProvider(base, tenant));
  console.log(`listening on ${base}`);
});
