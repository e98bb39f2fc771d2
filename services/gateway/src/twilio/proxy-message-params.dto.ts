import { ApiPropertyOptional } from '@nestjs/swagger';
import { Allow } from 'class-validator';

/** Twilio's MessageInteraction parameters: the text, and media URLs (the form key repeated). */
export class ProxyMessageParamsDto {
  @ApiPropertyOptional({ description: 'The text to send (never stored, logged or shown back)' })
  @Allow()
  Body?: unknown;

  @ApiPropertyOptional({ description: 'Media URLs to send with it (relayed, never fetched)', type: [String] })
  @Allow()
  MediaUrl?: unknown;
}
