import { Injectable } from '@nestjs/common';
import { StoreRpcErrorFilter } from '@maskline/persistence';

/** call-router's one RPC error filter (its own error mappings go here). */
@Injectable()
export class CallRouterRpcErrorFilter extends StoreRpcErrorFilter {}
