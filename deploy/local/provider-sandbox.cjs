'use strict';
/**
 * The providers' REST APIs as `npm start` runs them: a server on loopback that takes every text
 * message and call Maskline asks Plivo or Twilio to send, answers as they do, and keeps the last
 * ones, so a local system never sends a packet off this machine. Set PLIVO_API_BASE_URL /
 * TWILIO_API_BASE_URL to reach the real APIs instead.
 *
 *   POST /v1/Account/{auth_id}/Message/               Plivo: 202 {api_id, message, message_uuid: [id]}
 *   POST /2010-04-01/Accounts/{sid}/Messages.json     Twilio: 201 {sid, status: "queued", ...}
 *   POST /v1/Account/{auth_id}/Call/, .../Calls.json  calls: 201
 *   GET  /v1/Account/{auth_id}/Number/{number}/       Plivo: 200 the number, or 404 when no account holds it
 *   GET  /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=+…
 *                                                     Twilio: 200 {incoming_phone_numbers: [the number] or []}
 *   GET  /sandbox/messages                            what it was asked to send, oldest first
 *
 * Tests may make it fail the next requests (`failNext`), as a provider under load does, never
 * answer one provider account (`hangAccount`), as a provider whose API is down, refuse one's
 * credentials (`refuseCredentials`: 401), or hold a number in no account (`disown`), so that it is
 * not found when asked about and a text from it is refused, as the providers refuse one from a
 * number the account does not hold. Every other number is held by every account. Benchmarks may
 * watch every message arrive (`onMessage`).
 */
const crypto = require('node:crypto');
const http = require('node:http');

const KEEP = 1000;
const PLIVO_MESSAGE = /^\/v1\/Account\/([^/]+)\/Message\/?$/;
const TWILIO_MESSAGE = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const CALL = /^\/(v1\/Account\/[^/]+\/Call\/?|2010-04-01\/Accounts\/[^/]+\/Calls\.json)$/;
const PLIVO_NUMBER = /^\/v1\/Account\/([^/]+)\/Number\/(\d+)\/?$/;
const TWILIO_NUMBERS = /^\/2010-04-01\/Accounts\/([^/]+)\/IncomingPhoneNumbers\.json$/;

/** Starts the sandbox on 127.0.0.1 (`port` 0: any free port). */
async function startProviderSandbox({ port = 0, onMessage = () => {} } = {}) {
  /** @type {Array<{provider: string, account: string, authorization: string, from: string, to: string, text: string, media: string[], id: string, at: number}>} */
  const messages = [];
  /** @type {Array<{status: number, headers?: Record<string, string>}>} */
  const failures = [];
  let requests = 0;
  /** Provider accounts whose requests are never answered. */
  const hung = new Set();
  /** Numbers no provider account holds: not found when asked about, texts from them refused. */
  const disowned = new Set();
  /** Provider accounts whose credentials are refused (401). */
  const refusedCredentials = new Set();
  /** @type {Array<{provider: string, account: string, number: string, at: number}>} */
  const lookups = [];
  /** @type {Array<{provider: string, account: string, from: string, to: string, at: number}>} */
  const refused = [];
  /** A text from a number nobody holds: refused as each provider does (its text not kept). */
  const refuseFrom = (provider, account, from, to) => {
    refused.push({ provider, account, from, to, at: Date.now() });
    return provider === 'plivo'
      ? { status: 400, json: { api_id: crypto.randomUUID(), error: 'src parameter not valid' } }
      : {
          status: 400,
          json: {
            code: 21606,
            message:
              'The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.',
            status: 400,
          },
        };
  };

  /** Whether the account holds a number, as each provider answers it. */
  const lookUp = (url, req, send) => {
    const plivo = PLIVO_NUMBER.exec(url.pathname);
    const twilio = TWILIO_NUMBERS.exec(url.pathname);
    if (!plivo && !twilio) return send(404, { error: 'not a provider API path' });
    const account = decodeURIComponent((plivo || twilio)[1]);
    if (hung.has(account)) return; // never answers
    if (!/^Basic /.test(req.headers.authorization || '') || refusedCredentials.has(account)) {
      return send(401, { error: 'authentication failed' });
    }
    const number = plivo ? `+${plivo[2]}` : url.searchParams.get('PhoneNumber') || '';
    lookups.push({ provider: plivo ? 'plivo' : 'twilio', account, number, at: Date.now() });
    if (lookups.length > KEEP) lookups.shift();
    const held = !disowned.has(number);
    if (plivo) {
      return held
        ? send(200, {
            api_id: crypto.randomUUID(),
            number: plivo[2],
            carrier: 'Plivo',
            account: `/v1/Account/${account}/`,
          })
        : send(404, { api_id: crypto.randomUUID(), error: 'not found' });
    }
    const entry = {
      sid: `PN${crypto.randomBytes(16).toString('hex')}`,
      account_sid: account,
      phone_number: number,
    };
    return send(200, { incoming_phone_numbers: held ? [entry] : [], page: 0, page_size: 50 });
  };

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests++;
      const url = new URL(req.url || '/', 'http://sandbox');
      const send = (status, json, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'GET' && url.pathname === '/sandbox/messages') return send(200, { messages });
      if (req.method === 'GET') return lookUp(url, req, send);
      if (req.method !== 'POST') return send(405, { error: 'method not allowed' });
      const plivo = PLIVO_MESSAGE.exec(url.pathname);
      const twilio = TWILIO_MESSAGE.exec(url.pathname);
      const account = decodeURIComponent((plivo || twilio || [])[1] || '');
      if ((plivo || twilio) && hung.has(account)) return; // never answers
      if ((plivo || twilio) && failures.length > 0) {
        const failure = failures.shift();
        return send(failure.status, { error: 'sandbox failure' }, failure.headers);
      }
      if (plivo) {
        let json;
        try {
          json = JSON.parse(body || '{}');
        } catch {
          return send(400, { error: 'body is not JSON' });
        }
        const src = `+${String(json.src).replace(/^\+/, '')}`;
        if (disowned.has(src)) {
          const no = refuseFrom('plivo', account, src, `+${String(json.dst).replace(/^\+/, '')}`);
          return send(no.status, no.json);
        }
        const id = crypto.randomUUID();
        keep(
          messages,
          {
            provider: 'plivo',
            account: decodeURIComponent(plivo[1]),
            // Whether the request carried Basic credentials; never the credentials themselves.
            authenticated: /^Basic /.test(req.headers.authorization || ''),
            from: `+${String(json.src).replace(/^\+/, '')}`,
            to: `+${String(json.dst).replace(/^\+/, '')}`,
            text: String(json.text ?? ''),
            media: Array.isArray(json.media_urls) ? json.media_urls.map(String) : [],
            id,
            at: Date.now(),
          },
          onMessage,
        );
        return send(202, { api_id: crypto.randomUUID(), message: 'message(s) queued', message_uuid: [id] });
      }
      if (twilio) {
        const form = new URLSearchParams(body);
        if (disowned.has(form.get('From') || '')) {
          const no = refuseFrom('twilio', account, form.get('From') || '', form.get('To') || '');
          return send(no.status, no.json);
        }
        const id = `SM${crypto.randomBytes(16).toString('hex')}`;
        keep(
          messages,
          {
            provider: 'twilio',
            account: decodeURIComponent(twilio[1]),
            // Whether the request carried Basic credentials; never the credentials themselves.
            authenticated: /^Basic /.test(req.headers.authorization || ''),
            from: form.get('From') || '',
            to: form.get('To') || '',
            text: form.get('Body') || '',
            media: form.getAll('MediaUrl'),
            id,
            at: Date.now(),
          },
          onMessage,
        );
        return send(201, { sid: id, status: 'queued', from: form.get('From'), to: form.get('To') });
      }
      if (CALL.test(url.pathname)) return send(201, { api_id: crypto.randomUUID(), message: 'call fired' });
      return send(404, { error: 'not a provider API path' });
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    messages,
    /** Texts refused because no provider account holds their sender (`disown`). */
    refused,
    /** Every question whether an account holds a number, oldest first. */
    lookups,
    /** How many requests it has answered. */
    requests: () => requests,
    /** The next `count` message sends get `status` (with `headers`), then it takes them again. */
    failNext(count, status, headers) {
      for (let i = 0; i < count; i++) failures.push({ status, headers });
    },
    /** Requests for this provider account are never answered (until `answerAgain` or the sandbox closes). */
    hangAccount(account) {
      hung.add(account);
    },
    /** The provider account's API is back: its next requests are answered. */
    answerAgain(account) {
      hung.delete(account);
    },
    /**
     * No provider account holds this number (E.164): asked about, it is not found; a text sent from
     * it is refused with 400.
     */
    disown(number) {
      disowned.add(number);
    },
    /** The provider account's credentials are refused (401) when it is asked about a number. */
    refuseCredentials(account) {
      refusedCredentials.add(account);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function keep(list, item, onMessage) {
  onMessage(item);
  list.push(item);
  if (list.length > KEEP) list.shift();
}

module.exports = { startProviderSandbox };
