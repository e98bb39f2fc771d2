import { Injectable } from '@nestjs/common';
import { RpcErrorFilter } from '@maskline/messaging';

/** call-router's one RPC error filter. It keeps no database, so it maps only coded and unexpected errors. */
@Injectable()
export class CallRouterRpcErrorFilter extends RpcErrorFilter {}
