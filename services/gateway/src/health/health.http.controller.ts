import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { SystemHealthService, type PublicSystemHealth } from './system-health';

@ApiTags('operations')
@Controller()
export class HealthHttpController {
  constructor(private readonly health: SystemHealthService) {}

  /**
   * 200 when every service answers up; 503 (with the same body) when any is down. Never fails
   * itself. Statuses only: the operator's `/admin/v1/system` has the rest.
   */
  @Get('health')
  @ApiOperation({ summary: 'Health of every service, NATS and the store' })
  async get(@Res({ passthrough: true }) res: Response): Promise<PublicSystemHealth> {
    const report = await this.health.report();
    res.status(report.status === 'up' ? 200 : 503);
    return report;
  }
}
