export declare const DEMO_NUMBERS: string[];

export interface DemoAccount {
  auth_id: string;
  auth_token: string;
  /** The provider account the demo numbers' webhooks are signed with. */
  provider?: { auth_id: string; auth_token: string };
  /** The provider sandbox `npm start` runs (null when the real provider APIs are used). */
  sandbox_url?: string | null;
}

export declare function seedDemo(options: {
  baseUrl: string;
  operatorKey: string;
  stateFile: string;
  sandboxUrl?: string | null;
}): Promise<{ account: DemoAccount; instructions: string[] }>;
