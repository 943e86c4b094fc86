import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiUuidParam, CurrentPrincipal, MerchantAccess, type Principal, ProblemResponses } from '@orderflow/platform';
import { NotificationListResponse, NotificationResponse, toResponse } from './dto/notification.response.js';
import { NotificationsQuery } from './dto/failed-notifications.query.js';
import { fromPolicy, NotificationPolicyDto, toPolicy } from './dto/notification-policy.dto.js';
import { NotificationsService } from './notifications.service.js';

/**
 * What merchants were told and how each attempt went: the order's merchant reads its own orders' notifications;
 * operators read any, list the failed ones, and redeliver.
 */
@ApiTags('notifications')
@ProblemResponses(400, { 401: 'No valid operator credential' }, 429, 500, 503)
@Controller()
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('orders/:id/notifications')
  @MerchantAccess()
  @ApiOperation({
    summary: 'List an order’s notifications',
    description:
      'Every status notification sent (or being sent) to the merchant’s callback URL for this order, with each ' +
      'delivery attempt and its outcome. The order’s merchant (with its API key) or an operator; 404 for another ' +
      'merchant’s order. Read-only.',
  })
  @ApiUuidParam('id', 'The order’s id')
  @ApiOkResponse({ type: NotificationListResponse })
  @ProblemResponses({ 401: 'No valid API key or operator credential', 404: 'No such order for this merchant' })
  async forOrder(
    @CurrentPrincipal() caller: Principal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<NotificationListResponse> {
    const scope = caller.kind === 'merchant' ? { merchantId: caller.merchantId } : 'all';
    const found = await this.notifications.forOrder(scope, id);
    if (!found) throw new NotFoundException('No order with this id');
    return { notifications: found.map(toResponse) };
  }

  @Get('notifications')
  @ApiOperation({
    summary: 'List failed notifications',
    description:
      'Operators only: the notifications whose attempts are exhausted (FAILED), most recent first, to see which ' +
      'merchants missed a status change and redeliver it. Read-only.',
  })
  @ApiOkResponse({ type: NotificationListResponse, description: 'Failed notifications, most recent first' })
  async list(@Query() query: NotificationsQuery): Promise<NotificationListResponse> {
    return { notifications: (await this.notifications.failed(query.limit)).map(toResponse) };
  }

  @Get('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @ApiOperation({
    summary: 'Read a merchant’s notification retry schedule',
    description:
      'Operators only: the retry schedule of the merchant’s notifications, empty for the default. Read-only.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiOkResponse({ type: NotificationPolicyDto, description: 'Empty when the merchant follows the default schedule' })
  @ProblemResponses({ 404: 'No such merchant' })
  async policy(@Param('id', new ParseUUIDPipe()) merchantId: string): Promise<NotificationPolicyDto> {
    return fromPolicy(await this.notifications.policy(merchantId));
  }

  @Put('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @ApiOperation({
    summary: 'Set a merchant’s notification retry schedule',
    description:
      'Operators only: replaces the schedule by which failed notifications to this merchant are tried again. It ' +
      'applies to notifications created from now on; ones under way keep theirs. Idempotent: the same body gives the ' +
      'same policy. A schedule that cannot be followed (say, intervals out of order) is a 400.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @ApiOkResponse({ type: NotificationPolicyDto, description: 'Applies to notifications created from now on' })
  @ProblemResponses(413, { 404: 'No such merchant' })
  async setPolicy(
    @Param('id', new ParseUUIDPipe()) merchantId: string,
    @Body() body: NotificationPolicyDto,
  ): Promise<NotificationPolicyDto> {
    const policy = toPolicy(body);
    await this.notifications.setPolicy(merchantId, policy);
    return fromPolicy(policy);
  }

  @Delete('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @ApiOperation({
    summary: 'Reset a merchant’s notification retry schedule',
    description:
      'Operators only: the merchant follows the default schedule again, for notifications created from now on. ' +
      'Idempotent: deleting an absent policy answers 204 too.',
  })
  @ApiUuidParam('id', 'The merchant’s id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The merchant follows the default schedule again' })
  @ProblemResponses({ 404: 'No such merchant' })
  async clearPolicy(@Param('id', new ParseUUIDPipe()) merchantId: string): Promise<void> {
    await this.notifications.setPolicy(merchantId, undefined);
  }

  @Post('notifications/:id/redeliver')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Redeliver a notification',
    description:
      'Operators only: starts a new round of delivery attempts of a notification, in any state, now and ' +
      'asynchronously, with the merchant’s retry schedule. Refused with 409 while an attempt is under way, so a ' +
      'notification is never sent twice at once. Recorded in GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The notification’s id')
  @ApiAcceptedResponse({ type: NotificationResponse, description: 'A new round of attempts starts now' })
  @ProblemResponses(413, { 404: 'No such notification', 409: 'An attempt is under way' })
  async redeliver(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationResponse> {
    return toResponse(await this.notifications.redeliver(id));
  }
}
