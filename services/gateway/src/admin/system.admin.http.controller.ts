import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { currentCorrelationId } from '@maskline/observability';
import { SystemHealthService } from '../health/system-health';
import { ConsumerLagReader } from './consumer-lag';
import { OPERATOR_KEY_HEADER, OperatorKeyGuard } from './operator-key.guard';

/** The operator's view of the system: every service's health, breakers not closed, consumer lag. */
@ApiTags('operator: system')
@ApiHeader({ name: OPERATOR_KEY_HEADER, required: true })
@UseGuards(OperatorKeyGuard)
@Controller('admin/v1/system')
export class SystemAdminHttpController {
  constructor(
    private readonly health: SystemHealthService,
    private readonly lag: ConsumerLagReader,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Service health, open breakers and JetStream consumer lag' })
  async get() {
    const [report, consumers] = await Promise.all([
      this.health.detailed(),
      this.lag.read().catch((err: unknown) => {
        // Health must answer when JetStream does not: the lag is then reported as unknown.
        return err instanceof Error ? err : new Error(String(err));
      }),
    ]);
    return {
      api_id: currentCorrelationId(),
      status: report.status,
      nats: report.nats,
      store: report.store,
      services: report.services,
      breakers: report.breakers,
      consumers: Array.isArray(consumers)
        ? consumers.map((c) => ({
            stream: c.stream,
            consumer: c.consumer,
            pending: c.pending,
            ack_pending: c.ackPending,
            redelivered: c.redelivered,
          }))
        : [],
      consumers_error: Array.isArray(consumers) ? null : `consumer lag unknown: ${consumers.message}`,
    };
  }
}
