/**
 * Reads the service's backlog signals in the background and keeps the last verdict, so that deciding whether to take
 * a request costs no query: under overload the database is the scarce thing, and a check per request would add to
 * the load it is meant to shed. Each replica samples at most once per interval, one sample at a time.
 *
 * A signal that cannot be read keeps its last level (logged once, until it reads again): if the database is gone
 * the requests fail on their own, and a blip must neither open the gate under overload nor close it for good.
 *
 * Not a readiness check, on purpose: a replica that sheds load is healthy, and taking it out of its load balancer
 * would only move the overload to the others.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsRegistry } from '../metrics/metrics.js';
import { ADMIT, type BacklogReading, type BacklogSignal, judge, type Verdict } from './backlog.js';
import type { LoadSheddingConfig } from './load-shedding-config.js';

export const LOAD_SHEDDING_CONFIG = Symbol('LOAD_SHEDDING_CONFIG');

@Injectable()
export class BacklogMonitor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LoadShedding');
  private readonly signals: BacklogSignal[] = [];
  private readonly levels = new Map<string, number>();
  private readonly unreadable = new Set<string>();
  private readonly levelGauge: Gauge<'signal'>;
  private readonly boundGauge: Gauge<'signal'>;
  private readonly refusals: Counter<'reason'>;
  private current: Verdict = ADMIT;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;

  constructor(
    @Inject(LOAD_SHEDDING_CONFIG) private readonly config: LoadSheddingConfig,
    @Inject(MetricsRegistry) registry: MetricsRegistry,
  ) {
    this.levelGauge = new Gauge({
      name: 'orderflow_backlog_level',
      help: 'Each backlog signal at its last sample (its unit is in its name); new work is refused at its bound',
      labelNames: ['signal'],
      registers: [registry],
    });
    this.boundGauge = new Gauge({
      name: 'orderflow_backlog_bound',
      help: 'The level of each backlog signal at which new work is refused',
      labelNames: ['signal'],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: 'orderflow_load_shed_requests_total',
      help: 'Requests refused with 503 because a backlog signal was at or past its bound, by that signal',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  /** Declared by the service during module initialisation; sampling starts once the application has booted. */
  register(signal: BacklogSignal): void {
    if (this.signals.some((s) => s.name === signal.name)) throw new Error(`two backlog signals named ${signal.name}`);
    this.signals.push(signal);
    this.boundGauge.set({ signal: signal.name }, signal.bound);
  }

  /** The verdict of the last sample. */
  verdict(): Verdict {
    return this.current;
  }

  /** Counts a request refused on `reading`'s account. */
  refused(reading: BacklogReading): void {
    this.refusals.inc({ reason: reading.signal });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.LOAD_SHEDDING || this.signals.length === 0) return;
    // The first sample before the first request, so a replica started into an overload refuses from the start.
    await this.sample();
    this.timer = setInterval(() => {
      this.sampling ??= this.sample().finally(() => (this.sampling = undefined));
    }, this.config.LOAD_SHEDDING_SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
  }

  /** Reads every signal once and replaces the verdict. Never rejects: see the file's comment on unreadable signals. */
  async sample(): Promise<void> {
    const readings = (await Promise.all(this.signals.map((signal) => this.read(signal)))).filter(
      (r): r is BacklogReading => r !== undefined,
    );
    this.current = judge(readings);
    // The gauges move with the verdict, never before it: a scrape that shows every level under its bound means
    // requests are taken from then on (what a test or an operator waiting for a replica to take work relies on).
    for (const { signal, level } of readings) this.levelGauge.set({ signal }, level);
  }

  private async read(signal: BacklogSignal): Promise<BacklogReading | undefined> {
    try {
      const level = await signal.read();
      this.levels.set(signal.name, level);
      if (this.unreadable.delete(signal.name))
        this.logger.log({ message: 'backlog signal readable again', signal: signal.name });
    } catch (err) {
      if (!this.unreadable.has(signal.name)) {
        this.unreadable.add(signal.name);
        this.logger.warn({
          message: 'backlog signal unreadable; keeping its last level until it reads again',
          signal: signal.name,
          reason: (err as Error).message,
        });
      }
    }
    const level = this.levels.get(signal.name);
    if (level === undefined) return undefined;
    const { name, description, unit, bound } = signal;
    return { signal: name, description, unit, bound, level };
  }
}
