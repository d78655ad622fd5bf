// Runs an exported XState machine in XState itself. Input (a JSON file): {"machine": <config>, "fail": <src or
// null>, "error": <error name>, "items": <items per map, default 3>, "failItems": <0-based items in which `fail`
// fails, default all>}. Maps: a reference implementation of the named guards and actions the export uses
// (mapStart, mapItemDone, mapItemFailed, mapHasMoreItems, mapWithinTolerance), counting items per map. Every invoked actor resolves at once, except those whose src is `fail`, which
// reject with {name: error}. Named guards: `condition` is false (choices take their default, guarded transitions
// their fallback), `errorMatches` matches like ASL (States.ALL; States.TaskFailed but not States.Timeout). Named
// delays are 1 s. When nothing moves, the first event an active state accepts is sent (a person's first outcome);
// when there is none, a simulated clock jumps ahead so delayed transitions fire. Prints {status, value, visited}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(process.env.XSTATE_DIR + '/');
const { createMachine, createActor, fromPromise, SimulatedClock } = require('xstate');
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const config = input.machine;

const srcs = new Set();
const delays = new Set();
(function walk(node) {
  if (!node || typeof node !== 'object') return;
  if (node.invoke) srcs.add(node.invoke.src);
  for (const key of Object.keys(node.after || {})) if (Number.isNaN(Number(key))) delays.add(key);
  for (const child of Object.values(node.states || {})) walk(child);
})(config);

const maps = {};
const itemCount = input.items ?? 3;
let currentItem = null;
const actors = {};
for (const src of srcs) {
  actors[src] = fromPromise(async () => {
    const hit = !input.failItems || (currentItem !== null && input.failItems.includes(currentItem));
    if (src === input.fail && hit) throw { name: input.error };
    return { ok: true };
  });
}
const mapActions = {
  mapStart: (_, { map }) => { maps[map] = { index: 0, failed: 0 }; currentItem = 0; },
  mapItemDone: (_, { map }) => { maps[map].index += 1; currentItem = maps[map].index; },
  mapItemFailed: (_, { map }) => { maps[map].failed += 1; maps[map].index += 1; currentItem = maps[map].index; },
};
const mapGuards = {
  mapHasMoreItems: (_, { map }) => maps[map].index < itemCount,
  mapWithinTolerance: (_, { map, count, percentage }) => {
    const failed = maps[map].failed;
    if (count == null && percentage == null) return false;
    return (count == null || failed <= count) && (percentage == null || (failed * 100) / itemCount <= percentage);
  },
};
const delayImpl = {};
for (const d of delays) delayImpl[d] = 1000;
const matches = (pattern, error) =>
  pattern === error || pattern === 'States.ALL' || (pattern === 'States.TaskFailed' && error !== 'States.Timeout');

const machine = createMachine(config, {
  actors,
  delays: delayImpl,
  actions: mapActions,
  guards: {
    ...mapGuards,
    condition: () => false,
    errorMatches: ({ event }, params) => params.errors.some((p) => matches(p, event.error && event.error.name)),
  },
});

function activeEvents(node, value, out) {
  if (node.on) for (const key of Object.keys(node.on)) if (!key.startsWith('xstate.')) out.push(key);
  if (typeof value === 'string') {
    const child = (node.states || {})[value];
    if (child && child.on) for (const key of Object.keys(child.on)) if (!key.startsWith('xstate.')) out.push(key);
  } else if (value && typeof value === 'object') {
    for (const [key, sub] of Object.entries(value)) activeEvents((node.states || {})[key] || {}, sub, out);
  }
  return out;
}

const clock = new SimulatedClock();
const actor = createActor(machine, { clock });
const visited = [];
let errored = null;
actor.subscribe({ next: (s) => visited.push(s.value), error: (e) => { errored = String(e); } });
actor.start();
let last = null;
for (let i = 0; i < 1000 && actor.getSnapshot().status === 'active' && !errored; i++) {
  await new Promise((resolve) => setImmediate(resolve));
  const snap = actor.getSnapshot();
  if (snap.status !== 'active') break;
  const now = JSON.stringify(snap.value);
  if (now !== last) { last = now; continue; }
  const events = activeEvents(config, snap.value, []);
  if (events.length) actor.send({ type: events[0] });
  else clock.increment(1e12);
}
const snap = actor.getSnapshot();
console.log(JSON.stringify({ status: errored ? 'error' : snap.status, error: errored, value: snap.value, visited, maps }));
