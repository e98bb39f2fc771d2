export declare const DEMO_NUMBERS: string[];

export interface DemoAccount {
  auth_id: string;
  auth_token: string;
  /** The provider account the demo numbers' webhooks are signed with. */
  provider?: { auth_id: string; auth_token: string };
}

export declare function seedDemo(options: {
  baseUrl: string;
  operatorKey: string;
  stateFile: string;
}): Promise<{ account: DemoAccount; instructions: string[] }>;
