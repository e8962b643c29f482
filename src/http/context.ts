import type { JwtVerifier, Principal } from "../auth/jwt";
import type { Config } from "../config/env";
import type { ImageRepository } from "../storage/image-repository";
import type { ObjectStore } from "../storage/object-store";

/** Services built once per request and shared through the context. */
export interface Services {
  config: Config;
  images: ImageRepository;
  store: ObjectStore;
  verifyJwt: JwtVerifier;
  events: Queue;
}

/** Hono environment of the edge app. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    principal: Principal | null;
  };
}
