-- POST /auth/users/: a new user per request. Names are unique across threads (tid), runs
-- (BENCH_SALT, fresh for every wrk run) and requests (counter), so re-runs never collide.
-- BENCH_NEW_PASSWORD is strong (passes Django's four validators) and needs no JSON escaping.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local password = os.getenv("BENCH_NEW_PASSWORD")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local prefix = ""

function init(args)
  seed_random()
  prefix = "b" .. salt .. "x" .. string.format("%04x", math.random(0, 65535)) .. "t" .. tid .. "n"
end

function request()
  counter = counter + 1
  local name = prefix .. counter
  local body = '{"username": "' .. name .. '", "email": "' .. name .. '@example.com", '
    .. '"password": "' .. password .. '"}'
  return wrk.format("POST", "/auth/users/", headers, body)
end
