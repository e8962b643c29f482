/**
 * Stand-in for `fs` and `path` in the processor bundle. libheif-js's emscripten glue has a Node
 * branch that `require`s them; esbuild must resolve them even though that branch never runs in
 * workerd (no `process` global without nodejs_compat). Mapped by `[alias]` in the wrangler config.
 */
export default {};
