import 'reflect-metadata';
import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsIn, IsInt, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { documentValidationBounds } from './validation-bounds.js';

class Bounded {
  // Written by hand with a bound the validation does not enforce: the validation's bound is documented instead.
  @ApiProperty({ maxLength: 10 })
  @Length(1, 20)
  name: string;

  @ApiProperty()
  @Matches(/^[a-z]+$/)
  @MaxLength(30)
  slug: string;

  @ApiProperty({ type: Number })
  @IsInt()
  @Min(1)
  @Max(500)
  limit: number;

  @ApiProperty({ type: Number })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  amount: number;

  @ApiProperty({ type: [String] })
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  ids: string[];

  @ApiProperty()
  @IsIn(['a', 'b'])
  choice: string;

  // Validated but not documented: nothing is added to the document for it.
  @Length(1, 5)
  internal: string;
}

const documented = (property: string) =>
  Reflect.getMetadata('swagger/apiModelProperties', Bounded.prototype, property) as Record<string, unknown> | undefined;

describe('documentValidationBounds', () => {
  documentValidationBounds();

  it('documents the lengths and patterns the validation enforces, over what was written by hand', () => {
    expect(documented('name')).toMatchObject({ minLength: 1, maxLength: 20 });
    expect(documented('slug')).toMatchObject({ pattern: '^[a-z]+$', maxLength: 30 });
  });

  it('documents integers with their range and the format that holds it', () => {
    expect(documented('limit')).toMatchObject({ type: 'integer', format: 'int32', minimum: 1, maximum: 500 });
    expect(documented('amount')).toMatchObject({ type: 'integer', format: 'int64', maximum: Number.MAX_SAFE_INTEGER });
  });

  it('documents a list’s size, and its items’ format from a rule applied to each', () => {
    expect(documented('ids')).toMatchObject({ minItems: 1, maxItems: 1000, format: 'uuid', maxLength: 36 });
    expect(documented('ids')).not.toHaveProperty('type', 'integer');
  });

  it('documents the values an IsIn takes', () => {
    expect(documented('choice')).toMatchObject({ enum: ['a', 'b'] });
  });

  it('adds nothing for a property that is not documented', () => {
    expect(documented('internal')).toBeUndefined();
  });
});
