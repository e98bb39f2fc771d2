import { parseArgs } from 'node:util';
import type { Provider } from './simulated-provider';
import { TelephonySimulator, type CallReport } from './telephony-simulator';

const USAGE = `maskline-sim: place a simulated call, or send a text, against Maskline's webhooks

  npm run sim -- --from +14155551234 --to +14155550100 [options]
  npm run sim -- --from +14155551234 --to +14155550100 --text "I'm at gate B" [--media URL,URL]

  --gateway URL        Maskline's public base URL (default http://127.0.0.1:8080)
  --provider NAME      plivo or twilio (default plivo)
  --account-id ID      the provider account set on the number (Plivo Auth ID / Twilio Account SID)
  --auth-token TOKEN   its auth token: every request is signed with it
  --digits LIST        what the caller types at each prompt, comma-separated ("" types nothing)
  --no-answer          the dialled phone does not pick up
  --talk SECONDS       how long the call lasts once answered (default 30)
  --text TEXT          send this text message instead of calling (both providers' message webhooks)
  --media URLS         with --text: MMS media URLs, comma-separated (Maskline relays them, never fetches them)
  --json               print the report as JSON
`;

/** Prints what a caller experienced, one line per step. */
export function formatReport(report: CallReport): string {
  return report.transcript.map((line, i) => `${String(i + 1).padStart(3)}. ${line}`).join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
      provider: { type: 'string', default: 'plivo' },
      'account-id': { type: 'string' },
      'auth-token': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      digits: { type: 'string' },
      'no-answer': { type: 'boolean', default: false },
      talk: { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
      text: { type: 'string' },
      media: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const provider = values.provider as Provider;
  if (
    values.help ||
    !values.from ||
    !values.to ||
    !values['account-id'] ||
    !values['auth-token'] ||
    (provider !== 'plivo' && provider !== 'twilio')
  ) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const sim = new TelephonySimulator(values.gateway as string, provider, {
    accountId: values['account-id'],
    authToken: values['auth-token'],
  });
  if (values.text !== undefined) {
    const taken = await sim.text({
      from: values.from,
      to: values.to,
      text: values.text,
      media: values.media ? values.media.split(',').filter(Boolean) : [],
    });
    const line =
      taken.status === 200
        ? `Maskline took message ${taken.messageId} (HTTP 200): it goes to the other party of the sender's session, from ${values.to}, when that session has message masking on`
        : `Maskline refused message ${taken.messageId}: HTTP ${taken.status}`;
    process.stdout.write(`${values.json ? JSON.stringify(taken) : line}\n`);
    return taken.status === 200 ? 0 : 1;
  }
  const report = await sim.call({
    from: values.from,
    to: values.to,
    digits: values.digits === undefined ? [] : values.digits.split(','),
    callee: { answers: !values['no-answer'], talkSeconds: Number(values.talk) },
  });
  process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return report.refused ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`maskline-sim: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
