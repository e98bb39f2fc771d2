import type { CallAction } from '@maskline/contracts';
import { XML_DECLARATION, element, esc } from './xml';

/** Routing decisions as TwiML (Twilio; SignalWire and Telnyx TeXML read it too). */
export function renderTwiml(actions: readonly CallAction[], url: (path: string) => string): string {
  const body = actions
    .map((a) => {
      switch (a.type) {
        case 'play':
          return element('Play', {}, esc(a.url));
        case 'say':
          return element('Say', {}, esc(a.text));
        case 'pause':
          return element('Pause', { length: a.seconds });
        case 'gather': {
          const prompt = a.prompt
            .map((p) => ('play' in p ? element('Play', {}, esc(p.play)) : element('Say', {}, esc(p.say))))
            .join('');
          return (
            element(
              'Gather',
              {
                action: url(a.path),
                method: 'POST',
                input: 'dtmf',
                timeout: a.timeoutSeconds,
                finishOnKey: '#',
                numDigits: a.numDigits > 0 ? a.numDigits : undefined,
                actionOnEmptyResult: 'true',
              },
              prompt,
            ) + element('Redirect', { method: 'POST' }, esc(url(a.path)))
          );
        }
        case 'dial':
          return element(
            'Dial',
            {
              callerId: a.callerId,
              timeout: a.timeoutSeconds,
              timeLimit: a.timeLimitSeconds,
              action: url(a.actionPath),
              method: 'POST',
              record: a.record ? 'record-from-answer-dual' : undefined,
              recordingStatusCallback: a.record && a.recordingPath ? url(a.recordingPath) : undefined,
              recordingStatusCallbackEvent:
                a.record && a.recordingPath ? 'in-progress completed absent' : undefined,
              recordingStatusCallbackMethod: a.record && a.recordingPath ? 'POST' : undefined,
            },
            element(
              'Number',
              {
                statusCallback: url(a.eventsPath),
                statusCallbackEvent: 'initiated ringing answered completed',
                statusCallbackMethod: 'POST',
              },
              esc(a.number),
            ),
          );
        case 'hangup':
          return element('Hangup', {});
        case 'redirect':
          return element('Redirect', { method: 'POST' }, esc(a.url));
      }
    })
    .join('');
  return `${XML_DECLARATION}${body ? element('Response', {}, body) : element('Response', {})}`;
}
