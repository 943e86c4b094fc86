import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  isISO31661Alpha2,
  IsISO4217CurrencyCode,
  IsObject,
  IsString,
  IsUrl,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { OptionalProperty } from '@orderflow/platform';

/**
 * An ISO 3166-1 alpha-2 country in capitals, as the order.placed message carries it, or ZZ: the user-assigned code
 * ISO keeps for an unknown country, which the carrier refuses — the documented way to see an order cancelled with
 * SHIPPING_UNAVAILABLE. (class-validator's own check also takes lower case, which the message schema refuses.)
 */
function IsCountryCode(): PropertyDecorator {
  return ValidateBy({
    name: 'isCountryCode',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && /^[A-Z]{2}$/.test(value) && (value === 'ZZ' || isISO31661Alpha2(value)),
      defaultMessage: () => 'country must be an ISO 3166-1 alpha-2 country code, in capitals',
    },
  });
}

/** Quantity × unit price over all lines within what an amount may be (the message schema's Amount). */
function TotalWithinAmount(): PropertyDecorator {
  return ValidateBy({
    name: 'totalWithinAmount',
    validator: {
      validate: (items: unknown) =>
        !Array.isArray(items) ||
        items.reduce<number>((total, line: { quantity?: unknown; unitPrice?: unknown }) => {
          const { quantity, unitPrice } = line ?? {};
          return typeof quantity === 'number' && typeof unitPrice === 'number' ? total + quantity * unitPrice : total;
        }, 0) <= Number.MAX_SAFE_INTEGER,
      defaultMessage: () => `the order's total must be at most ${Number.MAX_SAFE_INTEGER} minor units`,
    },
  });
}

export class OrderLineDto {
  @ApiProperty({ example: 'SKU-CHAIR-01', maxLength: 64 })
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'sku must be 1–64 letters, digits, dots, dashes or underscores',
  })
  sku: string;

  @ApiProperty({ minimum: 1, example: 2 })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity: number;

  @ApiProperty({ description: 'Price of one unit in minor units (cents)', minimum: 0, example: 4999 })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  unitPrice: number;
}

export class PaymentDto {
  @ApiProperty({ enum: ['card'] })
  @IsIn(['card'])
  method: 'card';

  // At most 100 characters: sealed for the payment service (ADR 0015), it must fit the message's 200.
  @ApiProperty({
    description: 'Payment-gateway token for the card (never a card number)',
    example: 'tok_ok',
    maxLength: 100,
  })
  @IsString()
  @Length(1, 100)
  token: string;
}

export class AddressDto {
  @ApiProperty({ example: 'Ada Lovelace' })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ example: '12 St James’s Square' })
  @IsString()
  @Length(1, 200)
  line1: string;

  @ApiPropertyOptional()
  @OptionalProperty()
  @IsString()
  @Length(0, 200)
  line2?: string;

  @ApiProperty({ example: 'London' })
  @IsString()
  @Length(1, 100)
  city: string;

  @ApiProperty({ example: 'SW1Y 4JH' })
  @IsString()
  @Length(1, 20)
  postalCode: string;

  @ApiProperty({ description: 'ISO 3166-1 alpha-2', example: 'GB', pattern: '^[A-Z]{2}$', maxLength: 2 })
  @IsCountryCode()
  country: string;
}

export class PlaceOrderDto {
  @ApiProperty({ example: 'customer-42' })
  @IsString()
  @Length(1, 100)
  customerId: string;

  @ApiProperty({
    description: 'ISO 4217 currency code, in capitals',
    example: 'EUR',
    pattern: '^[A-Z]{3}$',
    maxLength: 3,
  })
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code in capitals' })
  @IsISO4217CurrencyCode()
  currency: string;

  @ApiProperty({ type: [OrderLineDto], minItems: 1, maxItems: 100 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @TotalWithinAmount()
  @Type(() => OrderLineDto)
  items: OrderLineDto[];

  // @ValidateNested alone passes a missing, null or non-object value: the service would then crash on it.
  @ApiProperty({ type: PaymentDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PaymentDto)
  payment: PaymentDto;

  @ApiProperty({ type: AddressDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => AddressDto)
  shippingAddress: AddressDto;

  @ApiPropertyOptional({
    description: 'Where status changes are POSTed (https)',
    example: 'https://merchant.example/hooks',
  })
  @OptionalProperty()
  @IsUrl({ protocols: ['https', 'http'], require_tld: false, require_protocol: true })
  @Length(1, 2000)
  callbackUrl?: string;
}
