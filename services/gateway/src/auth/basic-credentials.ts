import { CodedError, ErrorCodes } from '@maskline/contracts';

/** HTTP Basic credentials; `expected` names them in the error (e.g. "Auth ID:Auth Token"). */
export function parseBasic(
  header: string | undefined,
  expected: string,
): { username: string; password: string } {
  const refuse = () =>
    new CodedError(
      ErrorCodes.AUTH_FAILED,
      `authentication failed: HTTP Basic credentials (${expected}) are required`,
    );
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) throw refuse();
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw refuse();
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
