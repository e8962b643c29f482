import { Hono } from "hono";
import { ApiError } from "../domain/errors";
import { RATE_LIMITS } from "../domain/rate-limit";
import type { AppEnv } from "./context";
import { authenticate, corsPolicy, hardenResponses, requestId, services } from "./middleware";
import { problemResponse } from "./problem";
import { rateLimit } from "./rate-limit";
import { adminApp } from "./routes/admin";
import { albumsApp } from "./routes/albums";
import { apiKeysApp } from "./routes/api-keys";
import { publicDeliveryApp, signedDeliveryApp } from "./routes/delivery";
import { deliveryCookiesApp } from "./routes/delivery-cookies";
import { imagesApp } from "./routes/images";
import { meApp } from "./routes/me";
import { adminModerationApp, imageModerationApp } from "./routes/moderation";
import { searchApp, tagsApp } from "./routes/search";
import { settingsApp } from "./routes/settings";
import { sharePagesApp } from "./routes/share-pages";
import { sharesApp } from "./routes/shares";
import { resumableApp, tusApp } from "./routes/tus";
import { uploadsApp } from "./routes/uploads";

/** Builds the edge Worker's HTTP app. */
export function createApp() {
  // Trailing slashes do not matter: tus clients are often configured with `/v1/tus/`.
  const app = new Hono<AppEnv>({ strict: false });
  app.use(requestId());
  app.use(hardenResponses());
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  // Browsers ask every page's origin for one; an empty answer beats a logged 404 per visit.
  app.get("/favicon.ico", (c) => c.body(null, 204, { "Cache-Control": "public, max-age=86400" }));
  // Before auth and signatures: a preflight carries neither.
  app.use("/v1/*", corsPolicy());
  app.use("/upload/*", corsPolicy());
  app.use(services());
  app.use("/v1/*", authenticate());
  app.use("/v1/*", rateLimit(RATE_LIMITS.api, { stateOnSuccess: true }));
  // Views are counted on a cache miss (services().delivery.admitOrigin); share pages always.
  app.use("/s/:token", rateLimit(RATE_LIMITS.delivery, { stateOnSuccess: false }));
  app.use("/s/:token/report", rateLimit(RATE_LIMITS.delivery, { stateOnSuccess: false }));
  app.route("/v1/images", imagesApp);
  app.route("/v1/settings", settingsApp);
  app.route("/v1/albums", albumsApp);
  app.route("/v1/search", searchApp);
  app.route("/v1/tags", tagsApp);
  app.route("/v1/admin", adminApp);
  app.route("/v1/admin", adminModerationApp);
  app.route("/v1/images", imageModerationApp);
  app.route("/v1/me", meApp);
  app.route("/v1/api-keys", apiKeysApp);
  app.route("/v1", sharesApp);
  app.route("/v1/delivery-cookies", deliveryCookiesApp);
  app.route("/v1/tus", tusApp);
  app.route("/v1", resumableApp);
  app.route("/upload", uploadsApp);
  app.route("/d", signedDeliveryApp);
  app.route("/i", publicDeliveryApp);
  app.route("/s", sharePagesApp);
  app.notFound(() => {
    throw new ApiError("not_found", "No such route.");
  });
  app.onError(problemResponse);
  return app;
}
