-- GET BENCH_PATH with `Authorization: Bearer <JWT>`, a random one of the access tokens that
-- run.py minted (BENCH_TOKENS: one per line, line I+1 for userI): authgate's
-- /u/api/secure_test/ or the reference's SimpleJWT-guarded /jwt-whoami/.
-- The requests are formatted once in init, as in check_token.lua, so that wrk is not the
-- bottleneck.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local requests = {}

function init(args)
  seed_random()
  local path = os.getenv("BENCH_PATH")
  for i, token in ipairs(read_lines(os.getenv("BENCH_TOKENS"))) do
    requests[i] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  end
end

function request()
  return requests[math.random(#requests)]
end
