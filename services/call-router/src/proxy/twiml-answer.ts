import { callActionSchema, type CallAction } from '@maskline/contracts';
import { parseXml, type XmlNode } from '@maskline/telephony-xml';

/** The longest reply text taken from a TwiML `<Message>` (Twilio's limit for one message). */
const REPLY_MAX = 1600;

/**
 * A customer's TwiML answer to an out-of-session call, as call actions: `<Say>`, `<Play>`,
 * `<Pause length>`, `<Redirect>` (to the customer's own URL, as a provider does) and `<Hangup>`
 * (`<Reject>` hangs up too). Other verbs (`<Dial>`, `<Gather>`, …) are not executed. Null when the
 * document is not TwiML or has nothing Maskline executes.
 */
export function twimlCallActions(xml: string): CallAction[] | null {
  const verbs = responseOf(xml);
  if (!verbs) return null;
  const actions: CallAction[] = [];
  for (const v of verbs) {
    const action = verbAction(v);
    if (action === 'stop') break;
    if (!action) continue;
    const valid = callActionSchema.safeParse(action);
    if (valid.success) actions.push(valid.data);
  }
  if (actions.length === 0) return null;
  const last = actions[actions.length - 1];
  // The call ends where the answer ends, as a provider ends it.
  if (last.type !== 'hangup' && last.type !== 'redirect') actions.push({ type: 'hangup' });
  return actions;
}

/** A TwiML answer to an out-of-session text: the first `<Message>`'s text (sent back to the sender), or null. */
export function twimlReply(xml: string): string | null {
  const message = responseOf(xml)?.find((v) => v.name === 'Message');
  const text = (message?.children.find((c) => c.name === 'Body')?.text ?? message?.text ?? '').trim();
  return text && [...text].length <= REPLY_MAX ? text : null;
}

function responseOf(xml: string): XmlNode[] | null {
  try {
    const root = parseXml(xml);
    return root.name === 'Response' ? root.children : null;
  } catch {
    return null;
  }
}

function verbAction(v: XmlNode): CallAction | 'stop' | null {
  switch (v.name) {
    case 'Say':
      return v.text ? { type: 'say', text: v.text.slice(0, 500) } : null;
    case 'Play':
      return v.text ? { type: 'play', url: v.text } : null;
    case 'Pause':
      return { type: 'pause', seconds: Math.min(60, Math.max(1, Number(v.attrs.length ?? '1') || 1)) };
    case 'Redirect':
      return v.text ? { type: 'redirect', url: v.text } : null;
    case 'Hangup':
    case 'Reject':
      return { type: 'hangup' };
    default:
      return null;
  }
}
