import {
  BadRequestException,
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
  Put,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, MerchantAccess, type Principal, ProblemResponses } from '@orderflow/platform';
import { NotificationListResponse, NotificationResponse, toResponse } from './dto/notification.response.js';
import { NotificationsQuery } from './dto/failed-notifications.query.js';
import { fromPolicy, NotificationPolicyDto, toPolicy } from './dto/notification-policy.dto.js';
import { InvalidRetrySchedule } from './retry-schedule.js';
import { NotificationNotRedeliverable } from './notification.js';
import { MerchantUnknown, NotificationNotFound, NotificationsService } from './notifications.service.js';

/**
 * What merchants were told and how each attempt went: the order's merchant reads its own orders' notifications;
 * operators read any, list the failed ones, and redeliver.
 */
@ApiTags('notifications')
@ApiUnauthorizedResponse({ description: 'No valid credential for this route' })
@Controller()
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('orders/:id/notifications')
  @MerchantAccess()
  @ApiOkResponse({ type: NotificationListResponse })
  @ProblemResponses({ 404: 'No such order for this merchant' })
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
  @ApiOkResponse({ type: NotificationListResponse, description: 'Failed notifications, most recent first' })
  async list(@Query() query: NotificationsQuery): Promise<NotificationListResponse> {
    return { notifications: (await this.notifications.failed(query.limit)).map(toResponse) };
  }

  @Get('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @ApiOkResponse({ type: NotificationPolicyDto, description: 'Empty when the merchant follows the default schedule' })
  @ProblemResponses({ 404: 'No such merchant' })
  async policy(@Param('id', new ParseUUIDPipe()) merchantId: string): Promise<NotificationPolicyDto> {
    return fromPolicy(await this.merchantPolicy(() => this.notifications.policy(merchantId)));
  }

  @Put('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @ApiOkResponse({ type: NotificationPolicyDto, description: 'Applies to notifications created from now on' })
  @ProblemResponses({ 404: 'No such merchant' })
  async setPolicy(
    @Param('id', new ParseUUIDPipe()) merchantId: string,
    @Body() body: NotificationPolicyDto,
  ): Promise<NotificationPolicyDto> {
    let policy;
    try {
      policy = toPolicy(body);
    } catch (err) {
      if (err instanceof InvalidRetrySchedule) throw new BadRequestException(err.message);
      throw err;
    }
    await this.merchantPolicy(() => this.notifications.setPolicy(merchantId, policy));
    return fromPolicy(policy);
  }

  @Delete('merchants/:id/notification-policy')
  @ApiTags('merchants')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The merchant follows the default schedule again' })
  @ProblemResponses({ 404: 'No such merchant' })
  async clearPolicy(@Param('id', new ParseUUIDPipe()) merchantId: string): Promise<void> {
    await this.merchantPolicy(() => this.notifications.setPolicy(merchantId, undefined));
  }

  @Post('notifications/:id/redeliver')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: NotificationResponse, description: 'A new round of attempts starts now' })
  @ProblemResponses({ 404: 'No such notification' })
  @ProblemResponses({ 409: 'An attempt is under way' })
  async redeliver(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationResponse> {
    try {
      return toResponse(await this.notifications.redeliver(id));
    } catch (err) {
      if (err instanceof NotificationNotFound) throw new NotFoundException('No notification with this id');
      if (err instanceof NotificationNotRedeliverable) throw new ConflictException(err.message);
      throw err;
    }
  }

  private async merchantPolicy<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof MerchantUnknown) throw new NotFoundException('No merchant with this id');
      throw err;
    }
  }
}
