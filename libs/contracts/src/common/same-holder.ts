/**
 * Whether two records name the same holder within an account: the same subaccount, or both the
 * main account (a missing subaccount and `null` are both the main account's). A number moved to
 * another of its account's holders serves none of its former holder's sessions, texts or calls.
 */
export function sameHolder(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null) === (b ?? null);
}
