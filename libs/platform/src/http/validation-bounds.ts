/**
 * The bounds a request DTO's validation enforces, written into its OpenAPI schema, so the document cannot promise
 * more or less than the validation pipe checks. Each class-validator rule below becomes the JSON Schema keyword that
 * says the same thing (`@Length(1, 200)` → `minLength: 1, maxLength: 200`), on every property that is documented with
 * `@ApiProperty`; the validation wins over anything written by hand in `@ApiProperty`. Run once before the document is
 * built (bootstrap.ts). `@nestjs/swagger` moves `format`, `pattern` and the length and range bounds of a list
 * property to its items, which is where a rule with `{ each: true }` applies them.
 */
import { getMetadataStorage } from 'class-validator';

const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

interface ValidationRule {
  name?: string;
  propertyName: string;
  constraints?: unknown[];
  each?: boolean;
}

type Schema = Record<string, unknown>;

/** A validated class, as class-validator keys its rules: by constructor. */
type ValidatedClass = { readonly prototype: object };

/** What a rule means as JSON Schema keywords. A rule not named here (a custom check) adds nothing to the schema. */
const KEYWORDS: Record<string, (constraints: unknown[]) => Schema> = {
  isLength: ([min, max]) => ({ minLength: min, ...(max !== undefined && { maxLength: max }) }),
  minLength: ([min]) => ({ minLength: min }),
  maxLength: ([max]) => ({ maxLength: max }),
  matches: ([pattern]) => (pattern instanceof RegExp && pattern.flags === '' ? { pattern: pattern.source } : {}),
  min: ([min]) => ({ minimum: min }),
  max: ([max]) => ({ maximum: max }),
  arrayMinSize: ([min]) => ({ minItems: min }),
  arrayMaxSize: ([max]) => ({ maxItems: max }),
  isUuid: () => ({ format: 'uuid', minLength: 36, maxLength: 36 }),
  isIn: ([values]) => ({ enum: values }),
  isInt: () => ({ type: 'integer' }),
};

/** The class-validator rules of every validated class, by class; read from the library's one metadata store. */
function validatedClasses(): Map<ValidatedClass | string, ValidationRule[]> {
  const store = (getMetadataStorage() as unknown as { validationMetadatas?: unknown }).validationMetadatas;
  // A private field: if an upgrade renames it, start-up fails here rather than documents lose their bounds silently.
  if (!(store instanceof Map))
    throw new Error('class-validator keeps its metadata elsewhere: update validation-bounds.ts');
  return store as Map<ValidatedClass | string, ValidationRule[]>;
}

/** The JSON Schema bounds the validation of `target`'s property enforces. */
export function validationBoundsOf(target: ValidatedClass, property: string): Schema {
  const bounds: Schema = {};
  for (const rule of validatedClasses().get(target) ?? []) {
    if (rule.propertyName !== property || rule.name === undefined) continue;
    const keywords = KEYWORDS[rule.name]?.(rule.constraints ?? []);
    // Integer-ness of a list's items is no bound of the list: `type` stays what @ApiProperty says.
    if (keywords) Object.assign(bounds, rule.each && 'type' in keywords ? {} : keywords);
  }
  return bounds;
}

/** Writes each validated, documented property's bounds into its `@ApiProperty` metadata (see the file's comment). */
export function documentValidationBounds(): void {
  for (const [target, rules] of validatedClasses()) {
    // A string names a validation schema, not a class: nothing documents it.
    if (typeof target === 'string') continue;
    for (const property of new Set(rules.map((rule) => rule.propertyName))) {
      const documented = Reflect.getMetadata(API_MODEL_PROPERTIES, target.prototype, property) as Schema | undefined;
      if (!documented) continue;
      const bounds = validationBoundsOf(target, property);
      const schema = { ...documented, ...bounds };
      if (schema.type === 'integer' && schema.format === undefined) schema.format = integerFormat(schema);
      Reflect.defineMetadata(API_MODEL_PROPERTIES, schema, target.prototype, property);
    }
  }
}

/** int32 when the bounds fit 32 bits, else int64 (amounts go up to Number.MAX_SAFE_INTEGER). */
export function integerFormat({ minimum, maximum }: Schema): 'int32' | 'int64' {
  const fits = (bound: unknown) => typeof bound === 'number' && Math.abs(bound) <= 2_147_483_647;
  return fits(minimum) && fits(maximum) ? 'int32' : 'int64';
}
