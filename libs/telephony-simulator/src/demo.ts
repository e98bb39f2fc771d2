import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { formatReport } from './cli';
import { TelephonySimulator } from './telephony-simulator';

/** What `npm start` seeds (.infra/demo-account.json). */
interface DemoState {
  auth_id: string;
  auth_token: string;
  provider?: { auth_id: string; auth_token: string };
  /** The provider sandbox `npm start` runs: where the texts Maskline relays arrive. */
  sandbox_url?: string | null;
}

interface SandboxMessage {
  from: string;
  to: string;
  text: string;
}

type Json = Record<string, unknown>;
const say = (line = '') => process.stdout.write(`${line}\n`);
/** `count` different numbers: a spare phone that drew a party's number would be let in as that party, with no PIN asked. */
const phones = (count: number): string[] => {
  const drawn = new Set<string>();
  while (drawn.size < count) drawn.add(`+1628555${String(randomInt(1000, 10000))}`);
  return [...drawn];
};

/**
 * `npm run demo`: a PIN call end to end against the running system. Creates a PIN session through
 * the API, then plays Plivo: the first party calls the virtual number and is connected; a spare
 * phone types a wrong PIN, then the second party's PIN, and is connected to the first party. Shows
 * the session's interactions; then the two text each other through the same number (the texts
 * Maskline relays are read back from `npm start`'s provider sandbox), then it expires the session.
 */
export async function runDemo(gateway: string, state: DemoState): Promise<boolean> {
  if (!state.provider) throw new Error('the demo account has no provider credentials: run `npm start` again');
  const auth = `Basic ${Buffer.from(`${state.auth_id}:${state.auth_token}`).toString('base64')}`;
  const api = async (path: string, init: { method?: string; body?: Json } = {}) => {
    const res = await fetch(`${gateway}/v1/Account/${state.auth_id}${path}`, {
      method: init.method ?? (init.body ? 'POST' : 'GET'),
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
  };

  const [rider, driver, spare] = phones(3);
  const created = await api('/Masking/Session/', {
    body: {
      first_party: rider,
      second_party: driver,
      is_pin_authentication_required: true,
      generate_pin: true,
      generate_pin_length: 6,
      session_expiry: 600,
      message_masking: true,
    },
  });
  if (created.status !== 201) throw new Error(`could not create a session: ${JSON.stringify(created.body)}`);
  const session = created.body.session as Json;
  const vn = `+${String(session.virtual_number)}`;
  say(
    `Session ${String(created.body.session_uuid)}: rider ${rider} and driver ${driver} talk through ${vn}.`,
  );
  say(`PIN authentication is on; each party got a 6-digit PIN (the API returned them; not shown here).`);

  const sim = new TelephonySimulator(gateway, 'plivo', {
    accountId: state.provider.auth_id,
    authToken: state.provider.auth_token,
  });
  say();
  say(`1. The rider calls ${vn} from their registered phone:`);
  const first = await sim.call({ from: rider, to: vn, callee: { answers: true, talkSeconds: 65 } });
  say(formatReport(first));

  say();
  say(
    `2. The driver's phone died; they call ${vn} from a spare phone ${spare}, mistype the PIN, then get it right:`,
  );
  const second = await sim.call({
    from: spare,
    to: vn,
    digits: ['000000' === session.second_party_pin ? '000001' : '000000', String(session.second_party_pin)],
    callee: { answers: true, talkSeconds: 20 },
  });
  say(formatReport(second));

  // Call events reach the session a moment after the call: wait for both interactions.
  let s: Json = {};
  for (let i = 0; i < 30; i++) {
    s = ((await api(`/Masking/Session/${String(created.body.session_uuid)}/`)).body.response ?? {}) as Json;
    if (Array.isArray(s.interaction) && s.interaction.length >= 2 && s.status === 'active') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  say();
  say(
    `3. The session now shows ${String(s.total_call_count)} call legs, ${String(
      s.total_call_billed_duration,
    )} s billed, status ${String(s.status)}.`,
  );
  const texted = await textExchange(sim, state.sandbox_url ?? null, { rider, driver, vn });
  if (texted) {
    // Each relay reaches the session's record a moment after the provider took it: wait for both.
    let after: Json = {};
    for (let i = 0; i < 50; i++) {
      after = ((await api(`/Masking/Session/${String(created.body.session_uuid)}/`)).body.response ??
        {}) as Json;
      if (Number(after.total_message_count) >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    say(`   The session counts ${String(after.total_message_count)} messages; it keeps no text.`);
  }
  await api(`/Masking/Session/${String(created.body.session_uuid)}/`, { method: 'DELETE' });
  say('   (the demo session is expired again)');

  const ok =
    first.dials.length === 1 &&
    first.dials[0].number === driver &&
    second.dials.length === 1 &&
    second.dials[0].number === rider &&
    texted !== false;
  say();
  say(
    ok
      ? 'Both calls were connected, and neither side saw the other’s number.'
      : 'Something went wrong: see above.',
  );
  return ok;
}

/**
 * Step 4: the rider texts the virtual number, the driver's phone receives it from the virtual number,
 * and the driver answers. True when both arrived; null when there is no sandbox to see them in.
 */
async function textExchange(
  sim: TelephonySimulator,
  sandboxUrl: string | null,
  { rider, driver, vn }: { rider: string; driver: string; vn: string },
): Promise<boolean | null> {
  say();
  if (!sandboxUrl) {
    say('4. (The text exchange reads what Maskline sends from `npm start`’s provider sandbox: none here.)');
    return null;
  }
  say(`4. They text each other through ${vn} (message masking is on for this session):`);
  const exchange = [
    { from: rider, to: driver, who: 'rider', whom: 'driver', text: 'I’m at gate B, blue jacket 🚕' },
    { from: driver, to: rider, who: 'driver', whom: 'rider', text: 'On my way, 2 minutes' },
  ];
  for (const t of exchange) {
    const taken = await sim.text({ from: t.from, to: vn, text: t.text });
    if (taken.status !== 200) {
      say(`   Maskline refused the ${t.who}'s text: HTTP ${taken.status}`);
      return false;
    }
    let arrived: SandboxMessage | undefined;
    for (let i = 0; i < 50 && !arrived; i++) {
      let messages: SandboxMessage[];
      try {
        const res = await fetch(`${sandboxUrl}/sandbox/messages`);
        ({ messages } = (await res.json()) as { messages: SandboxMessage[] });
      } catch {
        say(`   The provider sandbox at ${sandboxUrl} does not answer: is this \`npm start\` still running?`);
        return false;
      }
      arrived = messages.find((m) => m.to === t.to && m.from === vn && m.text === t.text);
      if (!arrived) await new Promise((r) => setTimeout(r, 100));
    }
    if (!arrived) {
      say(`   The ${t.who}'s text did not reach the ${t.whom}.`);
      return false;
    }
    say(`   ${t.who} ${t.from} → ${vn}: "${t.text}"`);
    say(`   the ${t.whom}'s phone shows it from ${vn}, not from ${t.from}`);
  }
  return true;
}

if (require.main === module) {
  const stateFile = process.env.MASKLINE_DEMO_STATE ?? '.infra/demo-account.json';
  const gateway = process.env.MASKLINE_URL ?? `http://127.0.0.1:${process.env.HTTP_PORT ?? '8080'}`;
  let state: DemoState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState;
  } catch {
    process.stderr.write(`No demo account in ${stateFile}: start Maskline first with \`npm start\`.\n`);
    process.exit(2);
  }
  runDemo(gateway, state).then(
    (ok) => process.exit(ok ? 0 : 1),
    (err: unknown) => {
      const reason =
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      process.stderr.write(
        `The demo could not reach Maskline at ${gateway} (${reason}). Is \`npm start\` running?\n`,
      );
      process.exit(1);
    },
  );
}
