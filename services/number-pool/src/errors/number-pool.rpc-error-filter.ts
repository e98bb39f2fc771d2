import { Injectable } from '@nestjs/common';
import { StoreRpcErrorFilter } from '@maskline/persistence';

/** number-pool's one RPC error filter (its own error mappings go here). */
@Injectable()
export class NumberPoolRpcErrorFilter extends StoreRpcErrorFilter {}
