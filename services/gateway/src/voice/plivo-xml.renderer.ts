import type { CallAction, FollowUp } from '@maskline/contracts';
import { toPlivoNumber } from '@maskline/plivo-wire';
import { XML_DECLARATION, element, esc } from './xml';

/** Routing decisions as Plivo XML (https://www.plivo.com/docs/voice/xml/). */
export function renderPlivoXml(actions: readonly CallAction[], url: (followUp: FollowUp) => string): string {
  const body = actions
    .map((a) => {
      switch (a.type) {
        case 'play':
          return element('Play', {}, esc(a.url));
        case 'say':
          return element('Speak', {}, esc(a.text));
        case 'pause':
          return element('Wait', { length: a.seconds });
        case 'gather': {
          const prompt = a.prompt
            .map((p) => ('play' in p ? element('Play', {}, esc(p.play)) : element('Speak', {}, esc(p.say))))
            .join('');
          return (
            element(
              'GetDigits',
              {
                action: url(a.next),
                method: 'POST',
                timeout: a.timeoutSeconds,
                finishOnKey: '#',
                numDigits: a.numDigits > 0 ? a.numDigits : 99,
                retries: 1,
                redirect: 'true',
                log: 'false',
              },
              prompt,
            ) +
            // No input: the next element reports it as an empty entry (a failed attempt).
            element('Redirect', { method: 'POST' }, esc(url(a.next)))
          );
        }
        case 'dial': {
          const record = a.record
            ? element('Record', {
                recordSession: 'true',
                startOnDialAnswer: 'true',
                fileFormat: a.recordFormat,
                redirect: 'false',
                maxLength: a.timeLimitSeconds,
                ...(a.onRecording
                  ? {
                      action: url({ ...a.onRecording, recording: 'start' }),
                      method: 'POST',
                      callbackUrl: url({ ...a.onRecording, recording: 'done' }),
                      callbackMethod: 'POST',
                    }
                  : {}),
              })
            : '';
          return (
            record +
            element(
              'Dial',
              {
                callerId: toPlivoNumber(a.callerId),
                timeout: a.timeoutSeconds,
                timeLimit: a.timeLimitSeconds,
                action: url(a.onEnded),
                method: 'POST',
                callbackUrl: url(a.onLegEvent),
                callbackMethod: 'POST',
                redirect: 'true',
              },
              element('Number', {}, esc(toPlivoNumber(a.number))),
            )
          );
        }
        case 'hangup':
          return element('Hangup', {});
        case 'redirect':
          return element('Redirect', { method: 'POST' }, esc(a.url));
      }
    })
    .join('');
  return `${XML_DECLARATION}${element('Response', {}, body)}`;
}
