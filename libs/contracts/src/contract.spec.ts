import { z } from 'zod';
import { defineRpc } from './contract';
import { CodedError } from './errors/coded-error';
import { ErrorCodes } from './errors/error-codes';
import { codedErrorFromZod } from './errors/zod-to-coded-error';

describe('contracts', () => {
  it('refuses a subject without a version suffix', () => {
    expect(() => defineRpc('pin-auth', 'pin-auth.verify', z.object({}), z.object({}))).toThrow(/\.v<N>/);
    expect(() => defineRpc('pin-auth', 'pin-auth.verify.v1', z.object({}), z.object({}))).not.toThrow();
  });

  it('turns a zod failure into a validation error that names the field and the rule', () => {
    const schema = z.object({ session: z.object({ pin_retry: z.number().max(5, 'must be at most 5') }) });
    const result = schema.safeParse({ session: { pin_retry: 9 } });
    if (result.success) throw new Error('expected failure');
    const error = codedErrorFromZod(result.error);
    expect(error.code).toBe(ErrorCodes.VALIDATION);
    expect(error.field).toBe('session.pin_retry');
    expect(error.message).toBe('session.pin_retry: must be at most 5');
  });

  it('round-trips a coded error through its wire form', () => {
    const original = new CodedError('POOL.EXHAUSTED', 'no number in GB', {
      details: { country: 'GB' },
      retryable: false,
    });
    const back = CodedError.fromWire(JSON.parse(JSON.stringify(original.toWire())));
    expect(back).toBeInstanceOf(CodedError);
    expect(back.code).toBe('POOL.EXHAUSTED');
    expect(back.details).toEqual({ country: 'GB' });
  });
});
