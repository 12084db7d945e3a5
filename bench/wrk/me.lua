-- GET /auth/users/me/ with a random one of the seeded tokens (BENCH_TOKENS: one per line).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local tokens = {}

function init(args)
  seed_random()
  tokens = read_lines(os.getenv("BENCH_TOKENS"))
end

function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", "/auth/users/me/", { ["Authorization"] = "Token " .. token })
end
