import { Hono } from "hono";
import { ApiError } from "../domain/errors";
import type { AppEnv } from "./context";
import { authenticate, requestId, services } from "./middleware";
import { problemResponse } from "./problem";
import { deliveryApp } from "./routes/delivery";
import { imagesApp } from "./routes/images";
import { uploadsApp } from "./routes/uploads";

/** Builds the edge Worker's HTTP app. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.use(services());
  app.use("/v1/*", authenticate());
  app.route("/v1/images", imagesApp);
  app.route("/", uploadsApp);
  app.route("/", deliveryApp);
  app.notFound(() => {
    throw new ApiError("not_found", "No such route.");
  });
  app.onError(problemResponse);
  return app;
}
