import {
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, ProblemResponses } from '@orderflow/platform';
import {
  CreatedApiKeyResponse,
  CreatedMerchantResponse,
  CreatedWebhookSecretResponse,
  CreateMerchantDto,
  MerchantResponse,
} from './dto/merchant.dto.js';
import { LastWebhookSecret, MerchantNotFound, MerchantsService } from './merchants.service.js';

const CREDENTIAL_ID = /^[\w-]{1,64}$/;

/** Operators onboard merchants and rotate their credentials. Every route needs an operator credential. */
@ApiTags('merchants')
@ProblemResponses(401, 429, 500)
@Controller('merchants')
export class MerchantsController {
  constructor(private readonly merchants: MerchantsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedMerchantResponse, description: 'The key and secret are shown this once only' })
  async create(@Body() body: CreateMerchantDto, @CurrentPrincipal() by: Principal): Promise<CreatedMerchantResponse> {
    return this.merchants.create(body.name, actor(by));
  }

  @Get(':id')
  @ApiOkResponse({ type: MerchantResponse })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<MerchantResponse> {
    return found(() => this.merchants.get(id));
  }

  @Post(':id/api-keys')
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  async addApiKey(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<CreatedApiKeyResponse> {
    return found(() => this.merchants.addApiKey(id, actor(by)));
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked: the key stops working at once' })
  async revokeApiKey(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('keyId') keyId: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<void> {
    await found(() => this.merchants.revokeApiKey(id, credentialId(keyId), actor(by)));
  }

  @Post(':id/webhook-secrets')
  @ApiCreatedResponse({ type: CreatedWebhookSecretResponse })
  async addWebhookSecret(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<CreatedWebhookSecretResponse> {
    return found(() => this.merchants.addWebhookSecret(id, actor(by)));
  }

  @Delete(':id/webhook-secrets/:secretId')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked: notifications are no longer signed with it' })
  async revokeWebhookSecret(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('secretId') secretId: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<void> {
    await found(async () => {
      try {
        await this.merchants.revokeWebhookSecret(id, credentialId(secretId), actor(by));
      } catch (err) {
        if (err instanceof LastWebhookSecret) throw new ConflictException(err.message);
        throw err;
      }
    });
  }
}

function actor(principal: Principal): string {
  return principal.kind === 'operator' ? principal.subject : `merchant:${principal.merchantId}`;
}

function credentialId(id: string): string {
  if (!CREDENTIAL_ID.test(id)) throw new NotFoundException('No such merchant or credential');
  return id;
}

async function found<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof MerchantNotFound) throw new NotFoundException('No such merchant or credential');
    throw err;
  }
}
