import type { CallAction, FollowUp } from '@maskline/contracts';
import { XML_DECLARATION, element, esc } from './xml';

/** Routing decisions as TwiML (Twilio; SignalWire and Telnyx TeXML read it too). */
export function renderTwiml(actions: readonly CallAction[], url: (followUp: FollowUp) => string): string {
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
                action: url(a.next),
                method: 'POST',
                input: 'dtmf',
                timeout: a.timeoutSeconds,
                finishOnKey: '#',
                numDigits: a.numDigits > 0 ? a.numDigits : undefined,
                actionOnEmptyResult: 'true',
              },
              prompt,
            ) + element('Redirect', { method: 'POST' }, esc(url(a.next)))
          );
        }
        case 'dial':
          return element(
            'Dial',
            {
              callerId: a.callerId,
              timeout: a.timeoutSeconds,
              timeLimit: a.timeLimitSeconds,
              action: url(a.onEnded),
              method: 'POST',
              record: a.record ? 'record-from-answer-dual' : undefined,
              recordingStatusCallback: a.record && a.onRecording ? url(a.onRecording) : undefined,
              recordingStatusCallbackEvent:
                a.record && a.onRecording ? 'in-progress completed absent' : undefined,
              recordingStatusCallbackMethod: a.record && a.onRecording ? 'POST' : undefined,
            },
            element(
              'Number',
              {
                statusCallback: url(a.onLegEvent),
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
