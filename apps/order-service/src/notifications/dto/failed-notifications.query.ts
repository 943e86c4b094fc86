import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

export class NotificationsQuery {
  @ApiPropertyOptional({ enum: ['FAILED'], default: 'FAILED', description: 'Only failed notifications are listed' })
  @IsOptional()
  @IsIn(['FAILED'])
  state = 'FAILED' as const;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;
}
