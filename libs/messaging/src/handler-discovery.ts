import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';

export interface DiscoveredHandler<M> {
  metadata: M;
  instance: object;
  methodName: string;
  invoke: (...args: unknown[]) => Promise<unknown>;
}

/** Finds every provider or controller method carrying `metadataKey` (the NATS handler decorators). */
@Injectable()
export class HandlerDiscovery {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  find<M>(metadataKey: symbol): DiscoveredHandler<M>[] {
    const found: DiscoveredHandler<M>[] = [];
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[methodName];
        if (typeof method !== 'function') continue;
        const metadata = this.reflector.get<M | undefined>(metadataKey, method);
        if (metadata === undefined) continue;
        found.push({
          metadata,
          instance,
          methodName,
          invoke: async (...args: unknown[]) =>
            (method as (...a: unknown[]) => unknown).apply(instance, args),
        });
      }
    }
    return found;
  }
}
