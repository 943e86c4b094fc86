import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** A 400 problem-details answer listing every invalid field of the request, by its dotted path. */
export class RequestValidationFailed extends BadRequestException {
  constructor(readonly errors: FieldError[]) {
    super({ type: 'about:blank', title: 'Bad Request', detail: 'The request is not valid.', errors });
  }
}

/** DTOs are validated with class-validator; unknown fields are refused rather than silently dropped. */
export function requestValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new RequestValidationFailed(flattenValidationErrors(errors)),
  });
}

/**
 * Which of a field's failed checks speaks for it, first match wins: presence, then the field's kind, then anything
 * else (a bound). A missing or mistyped value is told what is wrong with it, not also every bound it cannot meet.
 * Names are class-validator's constraint names.
 */
const CHECKS_BY_PRIORITY = [
  'isDefined',
  'whitelistValidation',
  // Before isObject: a list's `@IsObject({ each: true })` has the same name, and the list itself comes first.
  'isArray',
  'isObject',
  'isString',
  'isInt',
  'isNumber',
  'isBoolean',
  'isEnum',
  'isIn',
  'isUUID',
  'isISO8601',
  'isUrl',
  'nestedValidation',
];

/** One error per invalid field, by its dotted path (see CHECKS_BY_PRIORITY for which). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    const name = CHECKS_BY_PRIORITY.find((check) => check in constraints) ?? Object.keys(constraints)[0];
    const own = name === undefined ? [] : [{ field, message: constraints[name] }];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}
