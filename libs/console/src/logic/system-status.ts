import type {
  BreakerStatus,
  ConsumerStatus,
  HealthPart,
  ServiceHealth,
  SystemResponse,
} from './operator.types';

/** The operator's System page: every status in words with a tone for colour, problems first. */
export type StatusTone = 'good' | 'warn' | 'bad' | 'neutral';

export interface StatusLine {
  name: string;
  status: string;
  tone: StatusTone;
  detail: string;
}

export interface SystemSummary {
  overall: { status: string; tone: StatusTone };
  nats: StatusLine;
  store: StatusLine;
  services: StatusLine[];
  /** Open first, then half-open, then closed. */
  breakers: (BreakerStatus & { tone: StatusTone })[];
  /** Breakers not closed. */
  openBreakers: number;
  /** Most pending first. */
  consumers: ConsumerStatus[];
}

const TONES: Readonly<Record<string, StatusTone>> = {
  up: 'good',
  ok: 'good',
  closed: 'good',
  degraded: 'warn',
  'half-open': 'warn',
  down: 'bad',
  open: 'bad',
};

export function statusTone(status: string | null | undefined): StatusTone {
  return TONES[(status ?? '').toLowerCase()] ?? 'neutral';
}

const BREAKER_ORDER: Readonly<Record<string, number>> = { open: 0, 'half-open': 1, closed: 2 };

export function summarizeSystem(system: SystemResponse): SystemSummary {
  const services = Object.entries(system.services ?? {})
    .map(([key, health]) => serviceLine(key, health))
    .sort((a, b) => toneRank(a.tone) - toneRank(b.tone) || a.name.localeCompare(b.name));
  const breakers = [...(system.breakers ?? [])]
    .sort(
      (a, b) =>
        (BREAKER_ORDER[a.state] ?? 1) - (BREAKER_ORDER[b.state] ?? 1) ||
        a.service.localeCompare(b.service) ||
        a.name.localeCompare(b.name),
    )
    .map((breaker) => ({ ...breaker, tone: statusTone(breaker.state) }));
  return {
    overall: { status: system.status, tone: statusTone(system.status) },
    nats: partLine('NATS', system.nats),
    store: partLine('Store', system.store),
    services,
    breakers,
    openBreakers: breakers.filter((b) => b.state !== 'closed').length,
    consumers: [...(system.consumers ?? [])].sort(
      (a, b) => b.pending - a.pending || a.stream.localeCompare(b.stream),
    ),
  };
}

const toneRank = (tone: StatusTone): number => ({ bad: 0, warn: 1, neutral: 2, good: 3 })[tone];

function partLine(name: string, part: HealthPart | null | undefined): StatusLine {
  const status = part?.status ?? 'unknown';
  return { name, status, tone: statusTone(status), detail: part?.detail ?? '' };
}

function serviceLine(key: string, health: ServiceHealth): StatusLine {
  const checks = Object.entries(health.checks ?? {}).map(
    ([check, part]) => `${check}: ${part.status}${part.detail ? ` (${part.detail})` : ''}`,
  );
  const detail = [health.detail ?? '', ...checks].filter((text) => text !== '').join('; ');
  return { name: health.service || key, status: health.status, tone: statusTone(health.status), detail };
}
