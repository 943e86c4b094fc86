import { ApiPropertyOptional } from '@nestjs/swagger';
import { PageLimit } from '@orderflow/platform';
import { IsIn, IsOptional } from 'class-validator';

export class NotificationsQuery {
  @ApiPropertyOptional({ enum: ['FAILED'], default: 'FAILED', description: 'Only failed notifications are listed' })
  @IsOptional()
  @IsIn(['FAILED'])
  state = 'FAILED' as const;

  @PageLimit({ max: 200, default: 50 })
  limit = 50;
}
