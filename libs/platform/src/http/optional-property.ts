import { ValidateIf } from 'class-validator';

/**
 * Optional but not nullable: a body property that may be left out, and that is validated whenever it is present —
 * `null` included. class-validator's `@IsOptional` skips `null` as well as `undefined`, so `"line2": null` would pass
 * every rule of the field and reach code and message schemas that take a string or nothing (a 500, found by
 * test/fuzz-rest.e2e-spec.ts). For query parameters, which are never null, `@IsOptional` is the same thing.
 */
export const OptionalProperty = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);
