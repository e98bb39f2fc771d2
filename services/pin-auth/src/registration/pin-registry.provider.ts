import type { Provider } from '@nestjs/common';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { MongoPinRegistryStore } from './mongo-pin-registry.store';
import { PinRegistry } from './pin-registry';

export const pinRegistryProvider: Provider = {
  provide: PinRegistry,
  inject: [MongoPinRegistryStore, PIN_AUTH_CONFIG],
  useFactory: (store: MongoPinRegistryStore, config: PinAuthConfig) =>
    new PinRegistry(store, {
      digestKey: config.PIN_DIGEST_KEY,
      encryptionKeys: config.PIN_ENCRYPTION_KEYS,
      densityCap: config.PIN_DENSITY_CAP,
      maxSlotTries: config.PIN_MAX_SLOT_TRIES,
    }),
};
