// bench/peer_node.mjs: the Node peer, the built-in fetch (Node 20):
// GETs, each body decoded with res.json() and one field read, one at a
// time (PARALLEL 1) or with PARALLEL in flight.
//
//   node bench/peer_node.mjs URL [COUNT [PARALLEL]]
//
// URL is the server's base (BENCH_URL), COUNT the number of requests
// (BENCH_COUNT, default 20000), PARALLEL (BENCH_PARALLEL, default 1).
// Prints wall= and cpu= (process.cpuUsage, user + system) of the run.

const TOKEN = "68d27ac06e53fef962c49a4b0d18691019c3a31a";
const WARMUP = 200;
const HEADERS = { "Kiamo-Api-Token": TOKEN, Accept: "application/json" };

const arg = (i, env, def) => process.argv[i + 1] || process.env[env] || def;
const base = arg(1, "BENCH_URL");
if (!base) {
  console.error("peer_node.mjs: give a URL (argument 1 or BENCH_URL)");
  process.exit(2);
}
const url = base.replace(/\/api\/v3\/.*$/, "") + "/api/v3/agents/30";
const count = Number(arg(2, "BENCH_COUNT", "20000"));
const parallel = Number(arg(3, "BENCH_PARALLEL", "1"));

let field = 0;
let bad = 0;

async function one() {
  const res = await fetch(url, { headers: HEADERS });
  const agent = await res.json();
  field = res.status === 200 ? agent.id : null;
  if (field !== 30) bad++;
}

async function run(n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await one();
    }
  };
  const workers = [];
  for (let i = 0; i < parallel; i++) workers.push(worker());
  await Promise.all(workers);
}

await run(WARMUP);
bad = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await run(count);
const wall = (performance.now() - wall0) / 1000;
const used = process.cpuUsage(cpu0);
const cpu = (used.user + used.system) / 1e6;
console.log(`wall=${wall.toFixed(6)} cpu=${cpu.toFixed(6)} n=${count} ` +
  `field=${field} parallel=${parallel} bad=${bad}`);
process.exit(bad ? 1 : 0);
