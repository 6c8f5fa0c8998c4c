import type { Logger } from 'pino';
import type { AlertService } from '../alerts/index.ts';
import { renderLocalizeMetrics } from '../localize/metrics.ts';
import { LocalizeService, type LocalizeDeps } from '../localize/service.ts';
import type { ServerContext, ServerModule } from './context.ts';
import { localizeRoutes } from './routes/localize.ts';

export interface LocalizeModule extends ServerModule {
  service: LocalizeService;
  /** Runs the steps due at `now` (the server's clock by default); a simulation calls it after moving its clock. */
  tick(now?: number): void;
  /** The /metrics families of localization. */
  metrics(): string;
}

/** How often the module looks whether a scope's step is due. */
const TICK_MS = 1000;

/**
 * Fault localization in the server: the service takes rounds as a sink, steps on the server's
 * clock, holds and suppresses target alerts through the alert engine's gate, and serves its API.
 */
export function createLocalizeModule(deps: { ctx: ServerContext; alerts: AlertService; log: Logger; trace?: LocalizeDeps['trace']; owns?: LocalizeDeps['owns']; shared?: LocalizeDeps['shared'] }): LocalizeModule {
  const { ctx, alerts } = deps;
  const now = ctx.now ?? Date.now;
  const config = ctx.config();
  const service = new LocalizeService({
    config,
    store: ctx.store,
    db: alerts.db,
    tree: () => ctx.targets(),
    agents: () => ctx.agents(),
    notify: (event, to, key, attach) => alerts.engine.notifyExternal(event, to, key, attach),
    ...(deps.trace ? { trace: deps.trace } : {}),
    ...(deps.owns ? { owns: deps.owns } : {}),
    ...(deps.shared ? { shared: deps.shared } : {}),
    afterStep: (t) => alerts.engine.release(t),
    log: deps.log.child({ module: 'localize' }),
    now,
    ...(config.general.public_url ? { publicUrl: config.general.public_url } : {}),
  });
  alerts.engine.setGate(service);
  ctx.onReload((c) => service.apply(c));
  const timer = setInterval(() => service.tick(), TICK_MS);
  timer.unref();
  return {
    name: 'localize',
    service,
    sink: service,
    tick: (t) => service.tick(t),
    metrics: () => renderLocalizeMetrics(service.list(), deps.shared ? service.sharedStats : undefined),
    routes: localizeRoutes(service, alerts.db),
    close: async () => {
      clearInterval(timer);
      // A shared step on its way finishes (its notifications recorded) before the alert database closes.
      await service.handOver();
      alerts.engine.setGate(undefined);
      service.close();
    },
  };
}
