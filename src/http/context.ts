import type { JwtVerifier } from "../auth/jwt";
import type { Config } from "../config/env";
import type { Principal } from "../domain/access";
import type { AlbumRepository } from "../storage/album-repository";
import type { SearchRepository } from "../storage/search-repository";
import type { SettingsRepository } from "../storage/settings-repository";
import type { ApiKeyDeps } from "../use-cases/api-keys";
import type { DeliveryDeps } from "../use-cases/deliver-variant";
import type { Deps } from "../use-cases/deps";
import type { ModerationDeps } from "../use-cases/moderation";
import type { PolicyDeps } from "../use-cases/policies";
import type { ShareDeps } from "../use-cases/shares";

/** Services built once per request and shared through the context. */
export interface Services {
  config: Config;
  /** What the use cases run on: repository, object store, events, clock, logger, metrics. */
  deps: Deps;
  /** What the view path uses: the edge cache first, D1 and R2 on a miss. */
  delivery: DeliveryDeps;
  settings: SettingsRepository;
  albums: AlbumRepository;
  search: SearchRepository;
  policyDeps: PolicyDeps;
  apiKeyDeps: ApiKeyDeps;
  shareDeps: ShareDeps;
  moderationDeps: ModerationDeps;
  verifyJwt: JwtVerifier;
}

/** Hono environment of the edge app. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    principal: Principal | null;
    /** Until when (Unix s) a `/d` view is granted: the signature's or the cookie's expiry. */
    viewExpires: number;
  };
}

/** What `requireUser(scope)` and `requireUserToken()` add: the caller, known to be signed in. */
export interface UserEnv {
  Variables: { user: Principal };
}
