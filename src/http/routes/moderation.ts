import { Hono } from "hono";
import { z } from "zod";
import { REPORT_REASONS } from "../../domain/moderation";
import { isValidQueueCursor } from "../../storage/moderation-repository";
import type { ImageRow } from "../../storage/schema";
import {
  appealImage,
  decideImage,
  moderationFigures,
  moderationHistory,
  moderationQueue,
  reportImage,
} from "../../use-cases/moderation";
import type { AppEnv } from "../context";
import { requireJsonBody, requireUser, requireUserToken } from "../middleware";
import { orThrow } from "../outcome";
import { customMethodId, imageIdParam } from "../params";
import { isoOrNull, presentImage } from "../present";
import { decimalInteger, validate } from "../validate";
import { requireAdmin } from "./admin";

const Note = z.string().trim().min(1).max(2000);
const ReportBody = z.strictObject({ reason: z.enum(REPORT_REASONS), note: Note.optional() });
const AppealBody = z.strictObject({ note: Note.optional() });
const DecideBody = z.strictObject({
  decision: z.enum(["allow", "block"]),
  reason: z.string().trim().min(1).max(1000),
});
const QueueQuery = z.strictObject({
  cursor: z.string().max(300).refine(isValidQueueCursor, "is not a valid cursor").optional(),
  limit: decimalInteger(1, 100).default(20),
});
const FiguresQuery = z.strictObject({ days: decimalInteger(1, 90).default(30) });

const NO_STORE = { "Cache-Control": "private, no-store" };

/** The review queue's view of an image: state, why, scores, appeal. */
function reviewItem(image: ImageRow) {
  return {
    id: image.id,
    ownerId: image.ownerId,
    moderation: image.moderation,
    reason: image.moderationReason,
    since: isoOrNull(image.moderationUpdatedAt ?? image.createdAt),
    scores: image.moderationScores ? (JSON.parse(image.moderationScores) as unknown) : null,
    appeal:
      image.appealedAt === null
        ? null
        : { at: isoOrNull(image.appealedAt), note: image.appealNote },
  };
}

/** `/v1/images/{id}/reports` and `/v1/images/{id}:appeal`: what users do about an image. */
export const imageModerationApp = new Hono<AppEnv>()
  .post(
    "/:id/reports",
    requireUser("images:read"),
    requireJsonBody(),
    validate("json", ReportBody),
    async (c) => {
      const body = c.req.valid("json");
      const user = c.get("user");
      const { moderationDeps, config } = c.get("services");
      const result = orThrow(
        await reportImage(moderationDeps, {
          principal: user,
          reporterId: user.userId,
          imageId: imageIdParam(c.req.param("id")),
          reason: body.reason,
          note: body.note ?? null,
          threshold: config.moderation.reportThreshold,
        }),
      );
      return c.json(result, result.duplicate ? 200 : 201, NO_STORE);
    },
  )
  .post(
    "/:idAppeal{[^/]+:appeal}",
    requireUser("images:write"),
    requireJsonBody(),
    validate("json", AppealBody),
    async (c) => {
      const { image, variants } = orThrow(
        await appealImage(c.get("services").moderationDeps, {
          principal: c.get("user"),
          imageId: customMethodId(c.req.param("idAppeal"), "appeal"),
          note: c.req.valid("json").note ?? null,
        }),
      );
      return c.json(presentImage(image, variants, new URL(c.req.url).origin), 200, NO_STORE);
    },
  );

/** `/v1/admin/moderation/*` and `/v1/admin/images/{id}:decide`: the review workflow. */
export const adminModerationApp = new Hono<AppEnv>()
  .use(requireUserToken(), requireAdmin())
  .get("/moderation/queue", validate("query", QueueQuery), async (c) => {
    const { cursor, limit } = c.req.valid("query");
    const page = orThrow(
      await moderationQueue(c.get("services").moderationDeps, {
        principal: c.get("user"),
        limit,
        cursor: cursor ?? null,
      }),
    );
    return c.json(
      {
        items: page.items.map(({ image, reports }) => ({
          ...reviewItem(image),
          reports: reports.map((r) => ({
            reporterId: r.reporterId,
            reason: r.reason,
            note: r.note,
            at: isoOrNull(r.at),
          })),
        })),
        nextCursor: page.nextCursor,
      },
      200,
      NO_STORE,
    );
  })
  .get("/moderation/figures", validate("query", FiguresQuery), async (c) => {
    const figures = orThrow(
      await moderationFigures(c.get("services").moderationDeps, {
        principal: c.get("user"),
        days: c.req.valid("query").days,
      }),
    );
    return c.json(figures, 200, NO_STORE);
  })
  .get("/images/:id/moderation", async (c) => {
    const id = imageIdParam(c.req.param("id"));
    const history = orThrow(
      await moderationHistory(c.get("services").moderationDeps, {
        principal: c.get("user"),
        imageId: id,
      }),
    );
    return c.json(
      {
        imageId: id,
        history: history.map((h) => ({
          at: isoOrNull(h.at),
          source: h.source,
          actor: h.actor,
          from: h.fromState,
          to: h.toState,
          reason: h.reason,
        })),
      },
      200,
      NO_STORE,
    );
  })
  .post(
    "/images/:idDecide{[^/]+:decide}",
    requireJsonBody(),
    validate("json", DecideBody),
    async (c) => {
      const body = c.req.valid("json");
      const image = orThrow(
        await decideImage(c.get("services").moderationDeps, {
          principal: c.get("user"),
          imageId: customMethodId(c.req.param("idDecide"), "decide"),
          decision: body.decision,
          reason: body.reason,
        }),
      );
      return c.json(reviewItem(image), 200, NO_STORE);
    },
  );
