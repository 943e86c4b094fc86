import {
  ConflictException,
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentPrincipal, MerchantAccess, type Principal } from '@orderflow/platform';
import { NotificationListResponse, NotificationResponse, toResponse } from './dto/notification.response.js';
import { NotificationsQuery } from './dto/failed-notifications.query.js';
import { NotificationNotRedeliverable } from './notification.js';
import { NotificationNotFound, NotificationsService } from './notifications.service.js';

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
  @ApiNotFoundResponse({ description: 'No such order for this merchant' })
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

  @Post('notifications/:id/redeliver')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: NotificationResponse, description: 'A new round of attempts starts now' })
  @ApiNotFoundResponse({ description: 'No such notification' })
  @ApiConflictResponse({ description: 'An attempt is under way' })
  async redeliver(@Param('id', new ParseUUIDPipe()) id: string): Promise<NotificationResponse> {
    try {
      return toResponse(await this.notifications.redeliver(id));
    } catch (err) {
      if (err instanceof NotificationNotFound) throw new NotFoundException('No notification with this id');
      if (err instanceof NotificationNotRedeliverable) throw new ConflictException(err.message);
      throw err;
    }
  }
}
