import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';
import { PROVIDER_ACCOUNT_ID_RULE } from '@maskline/contracts';

type WithCredentials = { provider_auth_id?: unknown; provider_auth_token?: unknown };
const eitherGiven = (o: WithCredentials) =>
  o.provider_auth_id !== undefined || o.provider_auth_token !== undefined;

/**
 * The provider account that signs a number's webhooks and places its calls (Plivo Auth ID / Twilio
 * Account SID, and its Auth Token): given together or not at all.
 */
export class ProviderCredentialFields {
  @ApiPropertyOptional({
    description:
      "The provider account that signs this number's webhooks (Plivo Auth ID / Twilio Account SID)",
  })
  @ValidateIf(eitherGiven)
  @IsString({ message: 'provider_auth_id is required with provider_auth_token' })
  @Matches(PROVIDER_ACCOUNT_ID_RULE.pattern, { message: `provider_auth_id ${PROVIDER_ACCOUNT_ID_RULE.says}` })
  provider_auth_id?: string;

  @ApiPropertyOptional({ description: 'Its Auth Token: stored encrypted, never returned', writeOnly: true })
  @ValidateIf(eitherGiven)
  @IsString({ message: 'provider_auth_token is required with provider_auth_id' })
  @Length(8, 128, { message: 'provider_auth_token must be 8 to 128 characters' })
  provider_auth_token?: string;

  @ApiPropertyOptional({ description: 'Accepted for SDK compatibility; ignored' })
  @ValidateIf(() => false)
  app_id?: unknown;
}

/** The credentials a body gives, as the contract takes them. */
export function credentialsOf(body: WithCredentials): { accountId: string; authToken: string } | undefined {
  return typeof body.provider_auth_id === 'string' && typeof body.provider_auth_token === 'string'
    ? { accountId: body.provider_auth_id, authToken: body.provider_auth_token }
    : undefined;
}
