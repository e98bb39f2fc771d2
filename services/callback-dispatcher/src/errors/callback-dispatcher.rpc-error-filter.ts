import { Injectable } from '@nestjs/common';
import { StoreRpcErrorFilter } from '@maskline/persistence';

/** callback-dispatcher's one RPC error filter (its own error mappings go here). */
@Injectable()
export class CallbackDispatcherRpcErrorFilter extends StoreRpcErrorFilter {}
