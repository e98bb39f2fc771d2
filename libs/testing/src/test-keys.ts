import { randomBytes } from 'node:crypto';

/** A fresh keyring spec (`id:base64`) for a service under test. */
export function testKeyring(id = 'test1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** A fresh 32-byte key, base64. */
export function testKey(): string {
  return randomBytes(32).toString('base64');
}
