export interface SandboxMessage {
  provider: 'plivo' | 'twilio';
  /** The provider account in the request path (Plivo Auth ID / Twilio Account SID). */
  account: string;
  /** Whether the request carried Basic credentials (the credentials are not kept). */
  authenticated: boolean;
  from: string;
  to: string;
  text: string;
  media: string[];
  /** The id it answered with. */
  id: string;
  at: number;
}

export interface ProviderSandbox {
  url: string;
  messages: SandboxMessage[];
  /** Texts refused because no provider account holds their sender (`disown`); their text is not kept. */
  refused: Array<{ provider: 'plivo' | 'twilio'; account: string; from: string; to: string; at: number }>;
  /** Every question whether an account holds a number (E.164), oldest first. */
  lookups: Array<{ provider: 'plivo' | 'twilio'; account: string; number: string; at: number }>;
  requests(): number;
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  hangAccount(account: string): void;
  answerAgain(account: string): void;
  /** No provider account holds this number (E.164): asked about, not found; a text from it refused with 400. */
  disown(number: string): void;
  /** This provider account's credentials are refused (401) when it is asked about a number. */
  refuseCredentials(account: string): void;
  close(): Promise<void>;
}

export function startProviderSandbox(options?: {
  port?: number;
  /** Called as each message send arrives (before it is answered). */
  onMessage?: (message: SandboxMessage) => void;
}): Promise<ProviderSandbox>;
