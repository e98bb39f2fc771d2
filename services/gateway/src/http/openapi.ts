import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Where Swagger UI serves the API's docs. */
export const DOCS_PATH = '/docs';

/** The OpenAPI document, generated from the same DTO classes that validate requests: `/docs` and `/docs-json`. */
export function setupOpenApi(app: NestExpressApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('Maskline')
    .setDescription(
      "Plivo-compatible PIN-based number masking. Authenticate with HTTP Basic (Auth ID : Auth Token); errors are Plivo's `{api_id, error}`.",
    )
    .setVersion(version)
    .addBasicAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, { jsonDocumentUrl: `${DOCS_PATH.slice(1)}-json` });
}
