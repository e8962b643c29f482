// Stand-in for the edge Worker's CacheInvalidation entrypoint in the processor tests: the
// processor binds it as EDGE exactly as in production (a named entrypoint over a service
// binding) and the tests read what it was asked through `received()`, or make it fail.
import { WorkerEntrypoint } from "cloudflare:workers";

let received = [];
let failing = 0;

export class CacheInvalidation extends WorkerEntrypoint {
  async purge(request) {
    if (failing > 0) {
      failing--;
      throw new Error("edge unavailable (stand-in)");
    }
    received.push(request);
  }

  async received() {
    return received;
  }

  async failNext(count) {
    failing = count;
  }

  async reset() {
    received = [];
    failing = 0;
  }
}

export default {
  fetch() {
    return new Response("edge stand-in", { status: 404 });
  },
};
