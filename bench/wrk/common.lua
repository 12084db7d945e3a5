-- Shared by every bench/wrk script (loaded with dofile). Counts non-2xx answers per thread,
-- seeds math.random per thread, and ends with one machine-readable BENCH_RESULT line.
-- Environment: BENCH_SALT (hex, new for each wrk run) keeps random streams and names apart.

local threads = {}
local next_id = 0

non2xx = 0 -- a global of each thread's Lua state, read back with thread:get in done()
tid = 0 -- set by setup() in each thread's state

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

salt = os.getenv("BENCH_SALT") or "0"

function seed_random()
  math.randomseed(os.time() + tid * 7919 + (tonumber(string.sub(salt, 1, 7), 16) or 0))
  math.random() -- the first value after seeding is poor in some Lua builds
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if #line > 0 then
      lines[#lines + 1] = line
    end
  end
  return lines
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "connect_errors": %d,'
      .. ' "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d,'
      .. ' "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean
  ))
end

-- Define init() and request() for a script that sends one request per line of BENCH_TOKENS
-- (line I+1: userI): build(i, line) formats each once, in init; request() picks a random one.
-- Building a body and headers per request in Lua would make wrk, not the server, the
-- bottleneck. With BENCH_SWEEP=1, request() takes them in order instead, from line
-- BENCH_SWEEP_FROM+1 on (wrapping): the sweep that fills a server's caches before its warm-up.
function prebuilt(build)
  local requests = {}
  local sweep = os.getenv("BENCH_SWEEP") == "1"
  local sent = tonumber(os.getenv("BENCH_SWEEP_FROM") or "0")
  function init(args)
    seed_random()
    for i, line in ipairs(read_lines(os.getenv("BENCH_TOKENS"))) do
      requests[i] = build(i, line)
    end
  end
  function request()
    if sweep then
      sent = sent + 1
      return requests[(sent - 1) % #requests + 1]
    end
    return requests[math.random(#requests)]
  end
end
