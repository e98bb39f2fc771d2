import { Body, Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CodedError, ErrorCodes } from '@maskline/contracts';
import { ConsoleSessions } from './console-sessions';
import {
  CSRF_HEADER,
  clearCookieValue,
  cookieToken,
  csrfTokenOf,
  isCrossSite,
  setCookieValue,
  type ConsoleIdentity,
} from './console-session-rules';
import { SignInDto } from './sign-in.dto';

const notSignedIn = () =>
  new CodedError(ErrorCodes.AUTH_FAILED, 'authentication failed: not signed in to the console');

/**
 * The console's sign-in, "who am I" and sign-out. The browser holds only an HttpOnly cookie; the
 * page learns its CSRF token here and sends it as `X-CSRF-Token` with every API request.
 */
@ApiTags('console')
@Controller('console/api/session')
export class ConsoleSessionHttpController {
  constructor(private readonly sessions: ConsoleSessions) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in to the console (Auth ID and Auth Token, or the operator key)' })
  async signIn(@Body() body: SignInDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    // Only the console's own page signs in: a form (or a page) elsewhere cannot plant its session.
    if (!req.is('application/json'))
      throw new CodedError(
        ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
        'sign in with a JSON body (Content-Type: application/json)',
      );
    if (
      isCrossSite({
        secFetchSite: req.header('sec-fetch-site'),
        origin: req.header('origin'),
        host: req.header('host'),
      })
    )
      throw new CodedError(ErrorCodes.FORBIDDEN, 'sign in from the console itself, not from another site');
    let token: string;
    let identity: Pick<ConsoleIdentity, 'kind'> & { authId?: string; subaccountId?: string };
    if (body.operator_key !== undefined) {
      if (body.auth_id !== undefined || body.auth_token !== undefined)
        throw validation('operator_key', 'operator_key cannot be given with auth_id or auth_token');
      token = await this.sessions.signInOperator(body.operator_key);
      identity = { kind: 'operator' };
    } else {
      if (body.auth_id === undefined) throw validation('auth_id', 'auth_id is required (or operator_key)');
      if (body.auth_token === undefined) throw validation('auth_token', 'auth_token is required');
      const opened = await this.sessions.signInAccount(body.auth_id, body.auth_token);
      token = opened.token;
      const { authId, subaccountId } = opened.principal;
      identity = { kind: 'account', authId, subaccountId };
    }
    res.setHeader('Set-Cookie', setCookieValue(token, req.secure, this.cookieMaxAge()));
    res.setHeader('Cache-Control', 'no-store');
    return this.view(identity, token);
  }

  @Get()
  @ApiOperation({ summary: 'Who is signed in to the console, and the CSRF token to send' })
  async whoAmI(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const token = cookieToken(req.header('cookie'), req.secure);
    if (!token) throw notSignedIn();
    res.setHeader('Cache-Control', 'no-store');
    return this.view(await this.sessions.whoIs(token), token);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out of the console (needs the CSRF header)' })
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const token = cookieToken(req.header('cookie'), req.secure);
    if (!token) throw notSignedIn();
    await this.sessions.identify(token, req.header(CSRF_HEADER));
    await this.sessions.signOut(token);
    res.setHeader('Set-Cookie', clearCookieValue(req.secure));
  }

  private view(
    identity: { kind: ConsoleIdentity['kind']; authId?: string; subaccountId?: string },
    token: string,
  ) {
    return {
      kind: identity.kind,
      auth_id: identity.kind === 'account' ? (identity.authId ?? null) : null,
      subaccount: identity.kind === 'account' && identity.subaccountId !== undefined,
      csrf_token: csrfTokenOf(token),
      idle_timeout_seconds: Math.round(this.sessions.limits.idleMs / 1000),
    };
  }

  /** The cookie outlives no session: the browser drops it when the longest session would end. */
  private cookieMaxAge(): number {
    return Math.round(this.sessions.limits.maxAgeMs / 1000);
  }
}

function validation(field: string, message: string): CodedError {
  return new CodedError(ErrorCodes.VALIDATION, message, { field });
}
