import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import {
  RouteLayerIndex,
  methodNotAllowedMiddleware,
  type RouteLayer,
} from './method-not-allowed.middleware';

const ok = (_req: Request, res: Response) => void res.end();

/** An application with routes shaped as the gateway's are (literal first segments, one parameter first). */
function app() {
  const a = express();
  a.get('/', ok);
  a.get('/v1/Account/:authId/Masking/Session/', ok);
  a.post('/v1/Account/:authId/Masking/Session/', ok);
  a.get('/v1/Account/:authId/Masking/Session/:id', ok);
  a.delete('/v1/Account/:authId/Masking/Session/:id', ok);
  a.post('/messaging/:provider/inbound', ok);
  a.get('/v1/Services/:sid', ok);
  a.post('/v1/Services/:sid', ok);
  a.get('/health/ready', ok);
  a.put('/:anything/settings', ok);
  return a;
}

const stackOf = (a: express.Express) => (a as unknown as { router: { stack: RouteLayer[] } }).router.stack;

/** Every route tried, as before the index. */
function bruteForce(layers: RouteLayer[], path: string) {
  const allowed = new Set<string>();
  let known = false;
  for (const layer of layers) {
    if (!layer.route || !layer.match(path)) continue;
    known = true;
    for (const [m, on] of Object.entries(layer.route.methods)) if (on) allowed.add(m.toUpperCase());
  }
  return { known, allowed };
}

describe('RouteLayerIndex', () => {
  const a = app();
  const index = new RouteLayerIndex(stackOf(a));

  it.each([
    '/',
    '/v1/Account/MA1/Masking/Session/',
    '/v1/Account/MA1/Masking/Session',
    '/V1/account/MA1/masking/session/',
    '/v1/Account/MA1/Masking/Session/abc',
    '/messaging/plivo/inbound',
    '/MESSAGING/twilio/inbound/',
    '/v1/Services/KS1',
    '/health/ready',
    '/health/live',
    '/v1/settings',
    '/health/settings',
    '/messaging/settings',
    '/unknown/settings',
    '/unknown',
    '/v1',
    '',
    '/%76%31/Services/KS1',
  ])('finds for %p what trying every route finds', (path) => {
    expect(index.methodsFor(path)).toEqual(bruteForce(stackOf(a), path));
  });

  it('a parameter-first route answers under any first segment', () => {
    expect(index.methodsFor('/v1/settings')).toEqual({ known: true, allowed: new Set(['PUT']) });
    expect(index.methodsFor('/v1/Services/KS1')).toEqual({ known: true, allowed: new Set(['GET', 'POST']) });
  });
});

describe('methodNotAllowedMiddleware', () => {
  const run = (a: express.Express, method: string, path: string) => {
    let passed: unknown = 'not called';
    methodNotAllowedMiddleware(a)(
      { method, path } as Request,
      {} as Response,
      ((err?: unknown) => {
        passed = err;
      }) as NextFunction,
    );
    return passed;
  };

  it('405 naming what the path takes; a known method or an unknown path goes on', () => {
    const a = app();
    const refused = run(a, 'PATCH', '/v1/Account/MA1/Masking/Session/abc');
    expect(refused).toBeInstanceOf(CodedError);
    expect((refused as CodedError).code).toBe(ErrorCodes.METHOD_NOT_ALLOWED);
    expect((refused as CodedError).details).toEqual({ allow: 'DELETE, GET' });
    expect(run(a, 'HEAD', '/health/ready')).toBeUndefined();
    expect(run(a, 'DELETE', '/nowhere/at/all')).toBeUndefined();
  });

  it('a route added after the first request is known (the index is built again when the stack grows)', () => {
    const a = app();
    const middleware = methodNotAllowedMiddleware(a);
    const call = (method: string, path: string) => {
      let passed: unknown = 'not called';
      middleware(
        { method, path } as Request,
        {} as Response,
        ((err?: unknown) => {
          passed = err;
        }) as NextFunction,
      );
      return passed;
    };
    expect(call('POST', '/late/route')).toBeUndefined();
    a.get('/late/route', ok);
    expect((call('POST', '/late/route') as CodedError).code).toBe(ErrorCodes.METHOD_NOT_ALLOWED);
  });
});
