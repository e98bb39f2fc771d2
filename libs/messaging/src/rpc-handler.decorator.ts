import { SetMetadata } from '@nestjs/common';
import type { RpcContract, RpcParsedRequestOf, RpcReplyInputOf } from '@maskline/contracts';

export const RPC_HANDLER_METADATA = Symbol('maskline:rpc-handler');

type RpcMethod<C extends RpcContract> = (
  request: RpcParsedRequestOf<C>,
) => Promise<RpcReplyInputOf<C>> | RpcReplyInputOf<C>;

/**
 * Answers a request-reply contract. The request is validated against the contract before the
 * method runs; the method's result is validated against the reply schema before it is sent.
 * The method's signature is checked against the contract at compile time.
 */
export function RpcHandler<C extends RpcContract>(contract: C) {
  return <M extends RpcMethod<C>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): TypedPropertyDescriptor<M> => {
    SetMetadata(RPC_HANDLER_METADATA, contract)(target, key, descriptor);
    return descriptor;
  };
}
