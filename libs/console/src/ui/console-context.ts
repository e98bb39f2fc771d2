import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ConsoleSession } from '../logic/console-session.types';
import type { ApiClient } from './api-client';

/** What every signed-in view needs: the API client and who is signed in. */
export interface ConsoleContextValue {
  client: ApiClient;
  session: ConsoleSession;
}

export const ConsoleContext = createContext<ConsoleContextValue | null>(null);

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (value === null) throw new Error('useConsole outside a signed-in console');
  return value;
}

/** The signed-in account's auth id; account views are only routed to for accounts. */
export function useAuthId(): string {
  const { session } = useConsole();
  return session.auth_id ?? '';
}
