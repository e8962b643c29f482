import { createApp } from "../src/http/app";

const app = createApp();

/** workerd's Fetcher can run another Worker's scheduled handler; its types leave it out. */
interface ScheduledFetcher {
  scheduled(options: { cron?: string; scheduledTime?: Date }): Promise<unknown>;
}

export default {
  fetch: app.fetch,
  /**
   * Local relay only: `wrangler dev` can trigger the first Worker's cron handler but not the
   * processor's, so `npm start` triggers this one and it runs the processor's sweeper. In
   * production the edge has no cron trigger; the processor's own trigger runs the sweeper.
   */
  async scheduled(controller, env) {
    const processor = env.PROCESSOR as unknown as ScheduledFetcher;
    await processor.scheduled({
      cron: controller.cron,
      scheduledTime: new Date(controller.scheduledTime),
    });
  },
} satisfies ExportedHandler<Env>;
