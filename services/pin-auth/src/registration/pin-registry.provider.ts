import type { Provider } from '@nestjs/common';
import { PIN_AUTH_CONFIG, type PinAuthConfig } from '../config/pin-auth.config';
import { LivePinRegistryStore } from './live-pin-registry.store';
import { PinRegistry } from './pin-registry';

export const pinRegistryProvider: Provider = {
  provide: PinRegistry,
  inject: [LivePinRegistryStore, PIN_AUTH_CONFIG],
  useFactory: (store: LivePinRegistryStore, config: PinAuthConfig) =>
    new PinRegistry(store, {
      digestKey: config.PIN_DIGEST_KEY,
      encryptionKeys: config.PIN_ENCRYPTION_KEYS,
      densityCap: config.PIN_DENSITY_CAP,
      maxSlotTries: config.PIN_MAX_SLOT_TRIES,
    }),
};
