-- POST /auth/token/login/ as a random seeded user (user0..user{BENCH_USERS-1}), right password.
-- BENCH_PASSWORD must need no JSON escaping (run.py checks).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local users = tonumber(os.getenv("BENCH_USERS"))
local password = os.getenv("BENCH_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  seed_random()
end

function request()
  local body = '{"username": "user' .. (math.random(users) - 1) .. '", "password": "'
    .. password .. '"}'
  return wrk.format("POST", "/auth/token/login/", headers, body)
end
