import type { INestApplication } from '@nestjs/common';
import { type ApiBody, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';

type SchemaObject = NonNullable<Extract<Parameters<typeof ApiBody>[0], { schema?: unknown }>['schema']>;

/** The request schema as OpenAPI sees it: the zod schema is the one source of truth. */
export function jsonSchemaOf(schema: z.ZodType): SchemaObject {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete json.$schema;
  return json as SchemaObject;
}

/** OpenAPI UI at /docs and JSON at /docs-json; both public, like the API's shape itself. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('luo-fleet planner')
    .setDescription(
      'Inventory of hypervisor hosts and their PCI/IOMMU topology, and Live Update preservation plans. ' +
        'Every route but /health needs Authorization: Bearer <token>; viewers read, operators also write. ' +
        'Errors are {statusCode, error, message, issues?: [{field, problem}]}.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
