import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPatternParam, ApiUuidParam, CurrentPrincipal, type Principal, ProblemResponses } from '@orderflow/platform';
import {
  CreatedApiKeyResponse,
  CreatedMerchantResponse,
  CreatedWebhookSecretResponse,
  CreateMerchantDto,
  MerchantResponse,
} from './dto/merchant.dto.js';
import { MerchantNotFound, MerchantsService } from './merchants.service.js';

const CREDENTIAL_ID = /^[\w-]{1,64}$/;

/** Operators onboard merchants and rotate their credentials. Every route needs an operator credential. */
@ApiTags('merchants')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller('merchants')
export class MerchantsController {
  constructor(private readonly merchants: MerchantsService) {}

  @Post()
  @ApiOperation({
    summary: 'Onboard a merchant',
    description:
      'Operators only: creates a merchant with its first API key and first webhook signing secret, both shown in ' +
      'this answer and never again (only their hashes and ids are kept). Not idempotent: each call creates a new ' +
      'merchant. Recorded in GET /operator-actions.',
  })
  @ProblemResponses(413)
  @ApiCreatedResponse({ type: CreatedMerchantResponse, description: 'The key and secret are shown this once only' })
  async create(@Body() body: CreateMerchantDto, @CurrentPrincipal() by: Principal): Promise<CreatedMerchantResponse> {
    return this.merchants.create(body.name, actor(by));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a merchant',
    description:
      'Operators only: the merchant with the ids and creation times of its API keys and webhook secrets ' +
      '(never the credentials themselves). Read-only.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiOkResponse({ type: MerchantResponse })
  @ProblemResponses({ 404: 'No such merchant' })
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<MerchantResponse> {
    return this.merchants.get(id);
  }

  @Post(':id/api-keys')
  @ApiOperation({
    summary: 'Issue an API key',
    description:
      'Operators only: a new API key for the merchant, shown in this answer only; the merchant’s other keys keep ' +
      'working, so keys can be rotated without downtime (issue, switch, revoke the old one). Not idempotent: each ' +
      'call issues a new key. Recorded in GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  @ProblemResponses(413, { 404: 'No such merchant' })
  async addApiKey(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<CreatedApiKeyResponse> {
    return this.merchants.addApiKey(id, actor(by));
  }

  @Delete(':id/api-keys/:keyId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke an API key',
    description:
      'Operators only: the key stops working at once, on every replica. Recorded in GET /operator-actions. A key ' +
      'that is unknown (or already revoked) is a 404.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiPatternParam('keyId', 'The key’s id, as answered when it was issued', CREDENTIAL_ID, 64)
  @ProblemResponses({ 404: 'No such merchant or API key' })
  @ApiNoContentResponse({ description: 'Revoked: the key stops working at once' })
  async revokeApiKey(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('keyId') keyId: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<void> {
    await this.merchants.revokeApiKey(id, credentialId(keyId), actor(by));
  }

  @Post(':id/webhook-secrets')
  @ApiOperation({
    summary: 'Issue a webhook signing secret',
    description:
      'Operators only: a new secret with which notifications to the merchant are signed, shown in this answer only. ' +
      'While several are active each notification carries one signature per secret, so the merchant can rotate ' +
      'without missing one. Not idempotent. Recorded in GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiCreatedResponse({ type: CreatedWebhookSecretResponse })
  @ProblemResponses(413, { 404: 'No such merchant' })
  async addWebhookSecret(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<CreatedWebhookSecretResponse> {
    return this.merchants.addWebhookSecret(id, actor(by));
  }

  @Delete(':id/webhook-secrets/:secretId')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke a webhook signing secret',
    description:
      'Operators only: notifications are no longer signed with this secret. The merchant’s last secret cannot be ' +
      'revoked (409): issue its successor first. Recorded in GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiPatternParam('secretId', 'The secret’s id, as answered when it was issued', CREDENTIAL_ID, 64)
  @ProblemResponses({ 404: 'No such merchant or webhook secret', 409: 'It is the merchant’s last webhook secret' })
  @ApiNoContentResponse({ description: 'Revoked: notifications are no longer signed with it' })
  async revokeWebhookSecret(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Param('secretId') secretId: string,
    @CurrentPrincipal() by: Principal,
  ): Promise<void> {
    await this.merchants.revokeWebhookSecret(id, credentialId(secretId), actor(by));
  }
}

function actor(principal: Principal): string {
  return principal.kind === 'operator' ? principal.subject : `merchant:${principal.merchantId}`;
}

function credentialId(id: string): string {
  if (!CREDENTIAL_ID.test(id)) throw new MerchantNotFound();
  return id;
}
