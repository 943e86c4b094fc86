import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { BatchReplayRequest, ListDeadLettersQuery } from '@orderflow/messaging';
import { ApiPatternParam, ApiUuidParam, PageLimit, ProblemResponses, SERVICE_NAMES } from '@orderflow/platform';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsUUID } from 'class-validator';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { CONSOLE_SERVICES } from './console.tokens.js';
import type { ConsoleService } from './console-services.js';
import { type ServiceAnswer, ServiceProxy, type ServiceRequest } from './service-proxy.js';

// The console forwards dead-letter listings and batch replays as they are: the owning service's own DTOs.

export class OperatorActionsQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only the records of this batch' })
  @IsOptional()
  @IsUUID()
  batch?: string;

  @PageLimit({ max: 500, default: 100 })
  limit = 100;
}

export class FailedNotificationsQuery {
  @PageLimit({ max: 200, default: 50 })
  limit = 50;
}

export class ReplayMessagesRequest {
  @ApiProperty({ type: [String], format: 'uuid', description: 'The dead letters to put back on their queue' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1_000)
  @IsUUID('all', { each: true })
  messageIds: string[];
}

/** `<service>.<purpose>`: a queue the named service owns (the service itself says whether it exists). */
const QUEUE = /^[a-z]+\.[a-z0-9][a-z0-9.-]{0,99}$/;

/**
 * The operator console's view of the other services, so that the browser talks to one origin: each route forwards
 * to one fixed path of one configured service with the operator's own credential, and answers with that service's
 * status and body (its problem details on failure).
 */
@ApiTags('console')
@ProblemResponses(
  400,
  { 401: 'No valid operator credential (here, or at the service the request was forwarded to)' },
  { 429: 'Rate limit reached here (with Retry-After), or at the service the request was forwarded to' },
  500,
  502,
  // The forwarded answer's status and problem, not its headers: no Retry-After comes through.
  { 503: { description: 'The service the request was forwarded to cannot reach its database', retryAfter: false } },
  504,
)
@Controller('console/api')
export class ConsoleApiController {
  constructor(
    @Inject(CONSOLE_SERVICES) private readonly services: readonly ConsoleService[],
    private readonly proxy: ServiceProxy,
  ) {}

  @Get('dead-letters')
  @ApiOperation({
    summary: 'Summarise every service’s dead letters',
    description:
      'Operators only: asks each service the console reaches (CONSOLE_SERVICE_URLS) for its dead-letter queues and ' +
      'their depth, with the operator’s own credential, and answers 200 even when some do not answer: each ' +
      'service’s entry says whether it did and, if not, why. Read-only.',
  })
  @ApiOkResponse({ description: "Each configured service's dead-letter queues and their depth, or why it did not say" })
  async deadLetterSummary(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const services = await Promise.all(
      this.services.map(async (service) => {
        const answer = await this.proxy.call(service, this.request(req, res, 'GET', '/dead-letters'));
        if (answer.kind === 'answer' && answer.status === 200 && Array.isArray(answer.body)) {
          return { service: service.name, ok: true, queues: answer.body as unknown[] };
        }
        const { status, detail } = failureOf(service, answer);
        return { service: service.name, ok: false, status, detail };
      }),
    );
    return { configured: this.services.length > 0, services };
  }

  @Get('dead-letters/:service/:queue')
  @ApiOperation({
    summary: 'List a queue’s dead letters',
    description:
      'Operators only: forwarded with the operator’s own credential to the service’s GET /dead-letters/{queue}: the dead letters at the ' +
      'head of the queue, looked at without taking them off it. Read-only.',
  })
  @ApiParam({ name: 'service', description: 'The service that owns the queue', enum: SERVICE_NAMES })
  @ApiPatternParam('queue', 'One of the service’s queues, `<service>.<purpose>`', QUEUE, 110)
  @ProblemResponses({ 404: 'The console does not reach this service, or the service has no such queue' })
  @ApiOkResponse({ description: 'The dead letters of one queue, looked at without taking them' })
  async deadLetters(
    @Param('service') name: string,
    @Param('queue') queue: string,
    @Query() query: ListDeadLettersQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const service = this.service(name);
    const filters = new URLSearchParams({ limit: String(query.limit) });
    for (const key of ['reason', 'since', 'until'] as const) {
      const value = query[key];
      if (value !== undefined) filters.set(key, value);
    }
    const path = `/dead-letters/${this.queueOf(service, queue)}?${filters}`;
    return this.forward(service, this.request(req, res, 'GET', path), res);
  }

  @Post('dead-letters/:service/:queue/replay-batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Replay many dead letters of one queue, each reported',
    description:
      'Operators only: forwarded to the owning service’s `POST /dead-letters/{queue}/replay-batch` with the operator’s credential: ' +
      'each message is replayed on its own and reported as succeeded, skipped (no longer there) or failed, and ' +
      'recorded in that service’s operator-actions audit with the batch id and the note.',
  })
  @ApiParam({ name: 'service', description: 'The service that owns the queue', enum: SERVICE_NAMES })
  @ApiPatternParam('queue', 'One of the service’s queues, `<service>.<purpose>`', QUEUE, 110)
  @ApiOkResponse({ description: 'The service’s answer: the batch id and each message’s outcome' })
  @ProblemResponses(413, { 404: 'The console does not reach this service, or the service has no such queue' })
  async replayBatch(
    @Param('service') name: string,
    @Param('queue') queue: string,
    @Body() body: BatchReplayRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const service = this.service(name);
    const path = `/dead-letters/${this.queueOf(service, queue)}/replay-batch`;
    return this.forward(
      service,
      { ...this.request(req, res, 'POST', path), body: { messageIds: body.messageIds, note: body.note } },
      res,
    );
  }

  @Get('operator-actions/:service')
  @ApiOperation({
    summary: 'List what operators did on one service',
    description:
      'Operators only: forwarded with the operator’s own credential to the service’s `GET /operator-actions`: the ' +
      'latest records, newest first, or those of one batch. Read-only.',
  })
  @ApiParam({ name: 'service', description: 'The service whose records to list', enum: SERVICE_NAMES })
  @ApiOkResponse({ description: 'The service’s operator-actions records' })
  @ProblemResponses({ 404: 'The console does not reach this service' })
  async operatorActions(
    @Param('service') name: string,
    @Query() query: OperatorActionsQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.batch) params.set('batch', query.batch);
    return this.forward(this.service(name), this.request(req, res, 'GET', `/operator-actions?${params}`), res);
  }

  @Post('dead-letters/:service/:queue/replay')
  @ApiOperation({
    summary: 'Replay dead letters',
    description:
      'Operators only: forwarded with the operator’s own credential to the service’s POST /dead-letters/{queue}/replay: the named dead ' +
      'letters go back on the queue they died on and are consumed again (the inbox keeps a message already ' +
      'handled from taking effect twice). Ids no longer in the queue are skipped, so a repeated request is harmless. ' +
      'Recorded in both services’ GET /operator-actions.',
  })
  @ApiParam({ name: 'service', description: 'The service that owns the queue', enum: SERVICE_NAMES })
  @ApiPatternParam('queue', 'One of the service’s queues, `<service>.<purpose>`', QUEUE, 110)
  @ProblemResponses(413, { 404: 'The console does not reach this service, or the service has no such queue' })
  @ApiResponse({ status: 201, description: 'What the service replayed (its own 201)' })
  async replay(
    @Param('service') name: string,
    @Param('queue') queue: string,
    @Body() body: ReplayMessagesRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const service = this.service(name);
    const path = `/dead-letters/${this.queueOf(service, queue)}/replay`;
    return this.forward(
      service,
      { ...this.request(req, res, 'POST', path), body: { messageIds: body.messageIds } },
      res,
    );
  }

  @Get('notifications/failed')
  @ApiOperation({
    summary: 'List failed notifications',
    description:
      'Operators only: forwarded with the operator’s own credential to the order service’s GET /notifications: merchant notifications ' +
      'whose attempts are exhausted, most recent first. Read-only.',
  })
  @ProblemResponses({ 404: 'The console does not reach the order service' })
  @ApiOkResponse({ description: "The order service's failed merchant notifications, most recent first" })
  async failedNotifications(
    @Query() query: FailedNotificationsQuery,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const path = `/notifications?state=FAILED&limit=${query.limit}`;
    return this.forward(this.service('order'), this.request(req, res, 'GET', path), res);
  }

  @Post('notifications/:id/redeliver')
  @ApiOperation({
    summary: 'Redeliver a notification',
    description:
      'Operators only: forwarded with the operator’s own credential to the order service’s POST /notifications/{id}/redeliver: a new ' +
      'round of delivery attempts starts, asynchronously; 409 while an attempt is under way. Answered with the ' +
      'order service’s own status (202). Recorded in both services’ GET /operator-actions.',
  })
  @ApiUuidParam('id', 'The notification’s id')
  @ProblemResponses(413, {
    404: 'The console does not reach the order service, or there is no such notification',
    409: 'An attempt is under way',
  })
  @ApiResponse({ status: 202, description: 'The notification, with a new round of attempts under way' })
  async redeliver(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    return this.forward(this.service('order'), this.request(req, res, 'POST', `/notifications/${id}/redeliver`), res);
  }

  private service(name: string): ConsoleService {
    const service = this.services.find((s) => s.name === name);
    if (!service) {
      throw new NotFoundException(
        this.services.length === 0
          ? 'The console reaches no service: CONSOLE_SERVICE_URLS is not set'
          : `The console reaches ${this.services.map((s) => s.name).join(', ')} only (CONSOLE_SERVICE_URLS)`,
      );
    }
    return service;
  }

  private queueOf(service: ConsoleService, queue: string): string {
    if (!QUEUE.test(queue) || !queue.startsWith(`${service.name}.`)) {
      throw new BadRequestException(
        `The queue must be one of the ${service.name} service's: ${service.name}.<purpose>`,
      );
    }
    return encodeURIComponent(queue);
  }

  private request(req: Request, res: Response, method: ServiceRequest['method'], path: string): ServiceRequest {
    const correlationId = res.getHeader('x-correlation-id');
    return {
      method,
      path,
      authorization: req.headers.authorization,
      ...(typeof correlationId === 'string' && { correlationId }),
    };
  }

  /** The service's own status and body; its problem details as ours when it failed. */
  private async forward(service: ConsoleService, request: ServiceRequest, res: Response): Promise<unknown> {
    const answer = await this.proxy.call(service, request);
    if (answer.kind === 'answer' && answer.status < 400) {
      res.status(answer.status);
      return answer.body;
    }
    if (answer.kind === 'answer' && isProblem(answer.body)) {
      // The service's `instance` is a path of that service; the filter puts ours in its place.
      const problem: Record<string, unknown> = { ...answer.body, service: service.name };
      delete problem.instance;
      throw new HttpException(problem, answer.status);
    }
    const { status, detail } = failureOf(service, answer);
    throw new HttpException(
      { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', detail, service: service.name },
      status,
    );
  }
}

function isProblem(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && ('title' in body || 'type' in body);
}

function failureOf(service: ConsoleService, answer: ServiceAnswer): { status: number; detail: string } {
  if (answer.kind === 'unavailable') return answer;
  const detail = isProblem(answer.body) && typeof answer.body.detail === 'string' ? answer.body.detail : undefined;
  return { status: answer.status, detail: detail ?? `the ${service.name} service answered ${answer.status}` };
}
