import { Injectable } from '@nestjs/common';
import { StoreRpcErrorFilter } from '@maskline/persistence';

/** pin-auth's one RPC error filter (its own error mappings go here). */
@Injectable()
export class PinAuthRpcErrorFilter extends StoreRpcErrorFilter {}
