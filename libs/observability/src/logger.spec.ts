import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { runWithContext } from './request-context';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

describe('createLogger', () => {
  it('never writes PINs, tokens or authorization headers, at any nesting depth', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        pin: '482913',
        body: { first_party_pin: '555123', second_party_pin: '777321', Digits: '9911' },
        req: { headers: { authorization: 'Basic TUExMjM6c2VjcmV0' } },
        account: { authToken: 'tok_abcdefghijklmnopqrstuvwxyz0123456789' },
      },
      'something happened',
    );
    const out = lines.join('\n');
    for (const secret of ['482913', '555123', '777321', '9911', 'TUExMjM6c2VjcmV0', 'tok_abcdefghij']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[REDACTED]');
  });

  it('keeps only the last four digits of a party phone number', () => {
    const { logger, lines } = capture();
    logger.info(
      { session: { first_party: '+14155550123', parties: ['+919003459876', '+442071838750'] } },
      'x',
    );
    const record = JSON.parse(lines[0]);
    expect(record.session.first_party).toBe('+*******0123');
    expect(record.session.parties).toEqual(['+********9876', '+********8750']);
    expect(lines[0]).not.toContain('4155550123');
  });

  it('stamps every line with the correlation id of the context it runs in', () => {
    const { logger, lines } = capture();
    runWithContext({ correlationId: 'corr-1' }, () => logger.info('inside'));
    logger.info('outside');
    expect(JSON.parse(lines[0]).correlationId).toBe('corr-1');
    expect(JSON.parse(lines[1]).correlationId).toBeUndefined();
  });
});
