import { Inject, Injectable } from '@nestjs/common';
import {
  decryptSecret,
  encryptSecret,
  keyedDigest,
  randomString,
  type EncryptedSecret,
} from '@maskline/crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Makes and protects Plivo-shaped credentials: Auth ID `MA`/`SA` + 18, Auth Token of 40 characters. */
@Injectable()
export class AccountCredentials {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  newAuthId(kind: 'main' | 'sub'): string {
    return `${kind === 'main' ? 'MA' : 'SA'}${randomString(18, ID_ALPHABET)}`;
  }

  newAuthToken(): string {
    return randomString(40);
  }

  digest(authId: string, token: string): string {
    return keyedDigest(this.config.ACCOUNT_TOKEN_PEPPER, 'auth-token', authId, token);
  }

  encrypt(authId: string, token: string): EncryptedSecret {
    return encryptSecret(this.config.ACCOUNT_TOKEN_KEYS, token, authId);
  }

  decrypt(authId: string, secret: EncryptedSecret): string {
    return decryptSecret(this.config.ACCOUNT_TOKEN_KEYS, secret, authId);
  }
}
