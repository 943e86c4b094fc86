import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsDefined, IsInt, IsObject, Max, Min, ValidateNested, validate } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { flattenValidationErrors } from './request-validation.js';

class Line {
  @IsInt()
  @Min(1)
  @Max(1_000)
  quantity!: number;
}

class Order {
  @IsDefined()
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines!: Line[];
}

const errorsOf = async (body: object) => flattenValidationErrors(await validate(plainToInstance(Order, body)));

describe('flattenValidationErrors', () => {
  it('gives a missing field one error, its presence check, not also every bound it cannot meet', async () => {
    expect(await errorsOf({})).toEqual([{ field: 'lines', message: 'lines should not be null or undefined' }]);
  });

  it('gives a mistyped value one error, its type check', async () => {
    expect(await errorsOf({ lines: 'many' })).toEqual([{ field: 'lines', message: 'lines must be an array' }]);
    expect(await errorsOf({ lines: [{ quantity: 'two' }] })).toEqual([
      { field: 'lines.0.quantity', message: 'quantity must be an integer number' },
    ]);
  });

  it('names a bound when the type is right, and every invalid field once, by its dotted path', async () => {
    expect(await errorsOf({ lines: [] })).toEqual([
      { field: 'lines', message: 'lines must contain at least 1 elements' },
    ]);
    expect(await errorsOf({ lines: [{ quantity: 0 }, { quantity: 5 }, { quantity: 5_000 }] })).toEqual([
      { field: 'lines.0.quantity', message: 'quantity must not be less than 1' },
      { field: 'lines.2.quantity', message: 'quantity must not be greater than 1000' },
    ]);
  });
});
