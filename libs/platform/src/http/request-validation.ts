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

export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}
