import { useMemo } from 'preact/hooks';
import { consoleEndpoints } from '../logic/console-endpoints';
import type { SystemResponse } from '../logic/operator.types';
import { formatCount } from '../logic/phone-number-format';
import { summarizeSystem } from '../logic/system-status';
import { useConsole } from './console-context';
import { ErrorAlert } from './error-alert';
import { PageHeading } from './page-heading';
import { ScrollTable } from './scroll-table';
import { StatCard, StatCards } from './stat-card';
import { StatusBadge } from './status-badge';
import { useApiResource } from './use-api-resource';

/** The operator's view of the deployment: services, NATS, the store, breakers and stream consumers. */
export function SystemView() {
  const { client } = useConsole();
  const system = useApiResource(
    (signal) => client.get<SystemResponse>(consoleEndpoints.operatorSystem, signal),
    [],
  );
  const summary = useMemo(() => (system.data ? summarizeSystem(system.data) : null), [system.data]);

  return (
    <section class="view">
      <div class="view-head">
        <PageHeading>System</PageHeading>
        <button type="button" class="button-secondary" onClick={system.reload} disabled={system.loading}>
          Refresh
        </button>
      </div>
      {system.error ? <ErrorAlert message={system.error} onRetry={system.reload} /> : null}
      <StatCards label="Status">
        <StatCard
          large
          label="Overall"
          loading={!summary}
          value={
            summary ? <StatusBadge tone={summary.overall.tone}>{summary.overall.status}</StatusBadge> : ''
          }
          tone={summary?.overall.tone}
        />
        <StatCard
          label="NATS"
          loading={!summary}
          value={summary ? <StatusBadge tone={summary.nats.tone}>{summary.nats.status}</StatusBadge> : ''}
          note={summary?.nats.detail}
          tone={summary?.nats.tone}
        />
        <StatCard
          label="Store"
          loading={!summary}
          value={summary ? <StatusBadge tone={summary.store.tone}>{summary.store.status}</StatusBadge> : ''}
          note={summary?.store.detail}
          tone={summary?.store.tone}
        />
      </StatCards>

      {summary ? (
        <>
          <section class="panel" aria-labelledby="system-services-title">
            <h2 id="system-services-title">Services</h2>
            {summary.services.length === 0 ? (
              <p class="empty-state">No service reported its health. Check that the services are running.</p>
            ) : (
              <ScrollTable caption="Services" captionHidden columns={['Service', 'Status', 'Detail']}>
                {summary.services.map((service) => (
                  <tr key={service.name}>
                    <th scope="row">{service.name}</th>
                    <td>
                      <StatusBadge tone={service.tone}>{service.status}</StatusBadge>
                    </td>
                    <td>{service.detail || '—'}</td>
                  </tr>
                ))}
              </ScrollTable>
            )}
          </section>

          <section class="panel" aria-labelledby="system-breakers-title">
            <h2 id="system-breakers-title">Breakers</h2>
            {summary.openBreakers === 0 ? <p class="empty-state">No breaker is open.</p> : null}
            {summary.breakers.length > 0 ? (
              <ScrollTable caption="Breakers" captionHidden columns={['Service', 'Name', 'State']}>
                {summary.breakers.map((breaker) => (
                  <tr key={`${breaker.service}/${breaker.name}`}>
                    <th scope="row">{breaker.service}</th>
                    <td>{breaker.name}</td>
                    <td>
                      <StatusBadge tone={breaker.tone}>{breaker.state}</StatusBadge>
                    </td>
                  </tr>
                ))}
              </ScrollTable>
            ) : null}
          </section>

          <section class="panel" aria-labelledby="system-consumers-title">
            <h2 id="system-consumers-title">Consumers</h2>
            {summary.consumers.length === 0 ? (
              <p class="empty-state">
                No stream consumer reported. Consumers appear once the services connect to NATS.
              </p>
            ) : (
              <ScrollTable
                caption="Consumers"
                captionHidden
                columns={['Stream', 'Consumer', 'Pending', 'Ack pending', 'Redelivered']}
              >
                {summary.consumers.map((consumer) => (
                  <tr key={`${consumer.stream}/${consumer.consumer}`}>
                    <th scope="row">{consumer.stream}</th>
                    <td>{consumer.consumer}</td>
                    <td class="cell-number">{formatCount(consumer.pending)}</td>
                    <td class="cell-number">{formatCount(consumer.ack_pending)}</td>
                    <td class="cell-number">{formatCount(consumer.redelivered)}</td>
                  </tr>
                ))}
              </ScrollTable>
            )}
          </section>
        </>
      ) : system.loading ? (
        <p class="loading-note">Loading the system status…</p>
      ) : null}
    </section>
  );
}
